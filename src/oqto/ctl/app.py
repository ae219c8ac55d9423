"""`oqtoctl`: the command tree."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from oqto.cliutil import VersionOption
from oqto.ctl import configcmd, doctor, install, invites, runners, sandbox, users

app = typer.Typer(
    rich_markup_mode=None,
    name="oqtoctl",
    help="Administer an Oqto installation: users, runners, invites, units, health.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def main(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Config file (default: $OQTO_CONFIG; else /etc/oqto/config.toml if it "
            "exists: the system's installation; else this account's single-user one, "
            "~/.config/oqto/config.toml or defaults, as oqto serve finds them).",
        ),
    ] = None,
    version: VersionOption = False,
) -> None:
    """Oqto's administration tool (most commands need root)."""


app.add_typer(users.app, name="user")
app.add_typer(runners.app, name="runner")
app.add_typer(invites.app, name="invite")
app.add_typer(configcmd.app, name="config")
app.add_typer(sandbox.app, name="sandbox")
app.command("doctor")(doctor.doctor)
app.command("install-units")(install.install_units)


def run() -> None:
    app()
