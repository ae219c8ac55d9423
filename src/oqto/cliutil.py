"""What every Oqto command line shares: one way to report a fatal error, and --version."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from oqto import package_version

# soft_wrap: a message names files and keys; Rich must not break it across lines.
err = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print `error: message` (verbatim: config keys like `[server] listen` are not Rich
    markup) and return the Exit to raise."""
    err.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(code)


def _show_version(value: bool) -> None:
    if value:
        print(f"oqto {package_version()}")
        raise typer.Exit()


VersionOption = Annotated[
    bool,
    typer.Option(
        "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
    ),
]
