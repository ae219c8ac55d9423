"""`oqtoctl doctor`"""

from __future__ import annotations

from typing import Annotated

import typer

from oqto.ctl.checks import FAIL, WARN, run_all
from oqto.ctl.output import emit_json, out, table


def doctor(
    context: typer.Context,
    json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Check the installation; explain each problem and how to fix it."""
    checks = run_all(context.find_root().params.get("config"))
    if json:
        emit_json([c.as_dict() for c in checks])
    else:
        table(
            ["", "check", "found", "fix"],
            [(c.status, c.name, c.detail, c.fix) for c in checks],
        )
        failed = sum(c.status == FAIL for c in checks)
        warned = sum(c.status == WARN for c in checks)
        out.print(f"{len(checks)} checks: {failed} failed, {warned} warnings")
    if any(c.status == FAIL for c in checks):
        raise typer.Exit(1)
