"""`oqto-runner`: serve this Linux account's sessions to the control plane."""

from __future__ import annotations

import asyncio
import logging
import os
import pwd
from importlib.metadata import version
from pathlib import Path
from typing import Annotated

import typer

from oqto.cliutil import err, fail
from oqto.config import ConfigError, load_config
from oqto.config.paths import default_runtime_dir, default_state_dir, runner_socket_path
from oqto.daemon import serve_until_signalled
from oqto.logs import setup_logging
from oqto.osutil.peercred import runner_policy
from oqto.runner.handlers import RunnerHandlers
from oqto.runner.server import RunnerServer
from oqto.userplane.factory import local_userplane
from oqto.userplane.local import LocalUserPlane

app = typer.Typer(rich_markup_mode=None, name="oqto-runner", add_completion=False)
log = logging.getLogger("oqto.runner")


@app.command()
def main(
    config: Annotated[Path | None, typer.Option("--config", "-c", help="Config file.")] = None,
    socket_path: Annotated[
        Path | None,
        typer.Option("--socket", help="Listen here instead of [local] runner_socket_pattern."),
    ] = None,
    service_user: Annotated[
        str | None,
        typer.Option(help="The control plane's account; overrides [runner] service_user."),
    ] = None,
) -> None:
    """Run this account's sessions for the Oqto control plane."""
    try:
        cfg = load_config(config).config
    except ConfigError as exc:
        raise fail(str(exc)) from None
    setup_logging(cfg.logging.level, cfg.logging.format.value)
    uid = os.getuid()
    if uid == 0:
        raise fail("oqto-runner runs as the platform user's own account, never as root")
    user = pwd.getpwuid(uid).pw_name
    service_name = service_user or cfg.runner.service_user
    try:
        service_uid: int | None = pwd.getpwnam(service_name).pw_uid
    except KeyError:
        err.print(
            f"warning: service account {service_name!r} does not exist; serving only "
            f"uid {uid} and root",
            highlight=False,
        )
        service_uid = None
    path = socket_path or runner_socket_path(cfg.local.runner_socket_pattern, uid, user)
    if not path.parent.is_dir():
        raise fail(
            f"runner socket directory {path.parent} does not exist (is XDG_RUNTIME_DIR "
            "set up, e.g. by logind or lingering?)"
        )
    state = default_state_dir()
    # Always below this account's own runtime directory: `[local] socket_dir` is the control
    # plane's (single-user sessions, e.g. /run/oqto), which no user may write.
    try:
        runtime_dir = default_runtime_dir()
    except ConfigError as exc:
        raise fail(str(exc)) from None
    try:
        userplane = local_userplane(
            cfg,
            runtime_dir=runtime_dir,
            log_dir=state / "logs" / "sessions",
            state_dir=state / "runner" / "sessions",
        )
    except OSError as exc:
        raise fail(
            f"cannot prepare {exc.filename or runtime_dir} (XDG_RUNTIME_DIR): {exc.strerror}"
        ) from None
    handlers = RunnerHandlers(userplane, version("oqto"))
    server = RunnerServer(handlers, runner_policy(uid, service_uid))
    userplane.set_event_handler(server.publish)
    asyncio.run(_run(server, userplane, path, service_uid))


async def _run(
    server: RunnerServer, userplane: LocalUserPlane, path: Path, grant_uid: int | None
) -> None:
    adopted, dropped = await userplane.adopt()
    await server.serve(path, grant_uid)
    log.info(
        "runner listening", extra={"socket": str(path), "adopted": adopted, "dropped": dropped}
    )

    async def close() -> None:
        log.info("runner stopping; sessions keep running")
        await server.close()
        await userplane.detach()

    await serve_until_signalled(path, close)


def run() -> None:
    app()
