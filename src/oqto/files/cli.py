"""`oqto-files`: serve one workspace root over a private Unix socket or loopback TCP."""

import contextlib
import logging
import signal
import socket
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
import uvicorn

from oqto.files.app import create_app
from oqto.files.limits import FileLimits, MiB
from oqto.osutil.unixsock import bind_unix_socket, remove_stale_socket

log = logging.getLogger(__name__)

# uvicorn's extra level below DEBUG.
_TRACE = 5


class LogLevel(StrEnum):
    critical = "critical"
    error = "error"
    warning = "warning"
    info = "info"
    debug = "debug"
    trace = "trace"


# Plain Click error output: stderr ends up in the platform's logs, not a terminal.
cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


@cli.command()
def serve(
    root: Annotated[
        Path,
        typer.Option(
            "--root",
            exists=True,
            file_okay=False,
            dir_okay=True,
            resolve_path=True,
            help="Workspace directory to serve.",
        ),
    ],
    socket_path: Annotated[
        Path | None,
        typer.Option("--socket", help="Listen on this Unix socket (created with mode 0600)."),
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", min=1, max=65535, help="Listen on this TCP port.")
    ] = None,
    host: Annotated[str, typer.Option("--host", help="TCP bind address.")] = "127.0.0.1",
    max_upload_mb: Annotated[
        int, typer.Option("--max-upload-mb", min=1, help="Largest accepted upload, in MiB.")
    ] = FileLimits().max_upload_bytes // MiB,
    log_level: Annotated[LogLevel, typer.Option("--log-level")] = LogLevel.info,
) -> None:
    """Serve the workspace file API for one root directory."""
    if (socket_path is None) == (port is None):
        raise typer.BadParameter(
            "pass exactly one of --socket or --port", param_hint="'--socket' / '--port'"
        )
    level = _TRACE if log_level is LogLevel.trace else logging.getLevelName(log_level.upper())
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    config = uvicorn.Config(
        create_app(root, FileLimits(max_upload_bytes=max_upload_mb * MiB)),
        host=host,
        port=port or 0,
        log_level=log_level.value,
        access_log=False,
        server_header=False,
    )
    _exit_on_signals()
    if socket_path is None:
        log.info("serving %s on http://%s:%s", root, host, port)
        uvicorn.Server(config).run()
        return

    sock = _bind_unix_socket(socket_path)
    log.info("serving %s on unix:%s", root, socket_path)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
        with contextlib.suppress(FileNotFoundError):
            socket_path.unlink()


def main() -> None:
    cli(prog_name="oqto-files")


def _bind_unix_socket(path: Path) -> socket.socket:
    """Bind the socket ourselves: uvicorn's own uds mode would chmod it to 0o666."""
    try:
        remove_stale_socket(path)
    except FileExistsError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--socket'") from None
    try:
        sock = bind_unix_socket(path)
    except OSError as exc:
        raise typer.BadParameter(
            f"cannot listen on {path}: {exc}", param_hint="'--socket'"
        ) from exc
    return sock


def _exit_on_signals() -> None:
    # uvicorn handles SIGINT/SIGTERM while serving, then restores the previous handlers
    # and re-raises the signal. Exiting via SystemExit (instead of dying from the
    # default action) lets the finally clauses remove the socket.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _raise_system_exit)


def _raise_system_exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)
