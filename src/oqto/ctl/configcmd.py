"""`oqtoctl config validate [PATH]`"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from oqto.config import ConfigError, load_config
from oqto.ctl.context import config_file
from oqto.ctl.output import emit_json, err, out

app = typer.Typer(rich_markup_mode=None, help="The config file.", no_args_is_help=True)


@app.command()
def validate(
    context: typer.Context,
    path: Annotated[Path | None, typer.Argument(help="Default: the system config.")] = None,
    json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Check a config file (unknown keys and bad values are errors, as at startup)."""
    target = path or config_file(context.find_root().params.get("config"))
    try:
        loaded = load_config(target)
    except ConfigError as exc:
        if json:
            shown = str(target) if target else None
            emit_json({"valid": False, "path": shown, "errors": str(exc).splitlines()})
        else:
            err.print(f"[bold red]invalid:[/] {escape(str(exc))}")
        raise typer.Exit(1) from None
    shown = str(loaded.path) if loaded.path else None
    if json:
        emit_json({"valid": True, "path": shown, "errors": []})
    else:
        out.print(f"{shown or 'no config file; the defaults'} is valid")
