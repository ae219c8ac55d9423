"""`oqto-usermgr`: serve provisioning requests from the control plane (runs as root)."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Annotated

import typer

from oqto.cliutil import fail
from oqto.config import ConfigError, load_config
from oqto.daemon import serve_until_signalled
from oqto.logs import setup_logging
from oqto.usermgr.server import UsermgrServer, service_gid, service_uid
from oqto.usermgr.service import Provisioner

app = typer.Typer(rich_markup_mode=None, name="oqto-usermgr", add_completion=False)
log = logging.getLogger("oqto.usermgr")


@app.command()
def main(
    config: Annotated[Path | None, typer.Option("--config", "-c", help="Config file.")] = None,
    socket_path: Annotated[
        Path | None,
        typer.Option("--socket", help="Listen here instead of [provisioning] usermgr_socket."),
    ] = None,
) -> None:
    """Create Linux accounts for registrations on behalf of the control plane."""
    if os.geteuid() != 0:
        raise fail("oqto-usermgr creates Linux accounts and must run as root")
    try:
        loaded = load_config(config)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    cfg = loaded.config
    setup_logging(cfg.logging.level, cfg.logging.format.value)
    service = cfg.runner.service_user
    if service_uid(service) is None:
        raise fail(
            f"service account {service!r} ([runner] service_user) does not exist; create it "
            f"first (useradd -r -s /usr/sbin/nologin {service})"
        )
    provisioner = Provisioner.from_config(cfg, loaded.path)
    server = UsermgrServer(provisioner, lambda: service_uid(service))
    asyncio.run(_run(server, socket_path or cfg.provisioning.usermgr_socket, service_gid(service)))


async def _run(server: UsermgrServer, path: Path, gid: int) -> None:
    await server.serve(path, gid)
    log.info("usermgr listening", extra={"socket": str(path)})
    await serve_until_signalled(path, server.close)


def run() -> None:
    app()
