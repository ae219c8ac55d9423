"""`oqto-files`: serve one workspace root over a private Unix socket or loopback TCP.

It starts with every session, on the same two cores as the agent, so it stays light:
argparse rather than typer (which brings its own copy of click), and the app itself
imports no web framework (`oqto.files.asgi`).
"""

import argparse
import contextlib
import logging
import signal
import socket
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

import uvicorn

from oqto.files.app import create_app
from oqto.files.limits import FileLimits, MiB
from oqto.osutil.unixsock import bind_unix_socket, remove_stale_socket

log = logging.getLogger(__name__)

# uvicorn's extra level below DEBUG.
_TRACE = 5
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


def _directory(value: str) -> Path:
    path = Path(value)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"directory '{value}' does not exist")
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"'{value}' is not a directory")
    return path.resolve()


def _bounded_int(low: int, high: int | None = None) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{value}' is not a valid integer") from None
        if number < low or (high is not None and number > high):
            bounds = f"{low}..{high}" if high is not None else f">= {low}"
            raise argparse.ArgumentTypeError(f"{number} is not in the range {bounds}")
        return number

    return parse


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="oqto-files", description="Serve the workspace file API for one root directory."
    )
    parser.add_argument(
        "--root",
        required=True,
        type=_directory,
        metavar="DIR",
        help="Workspace directory to serve.",
    )
    listen = parser.add_mutually_exclusive_group(required=True)
    listen.add_argument(
        "--socket",
        dest="socket_path",
        type=Path,
        metavar="PATH",
        help="Listen on this Unix socket (created with mode 0600).",
    )
    listen.add_argument(
        "--port", type=_bounded_int(1, 65535), metavar="N", help="Listen on this TCP port."
    )
    parser.add_argument("--host", default="127.0.0.1", help="TCP bind address.")
    parser.add_argument(
        "--max-upload-mb",
        type=_bounded_int(1),
        default=FileLimits().max_upload_bytes // MiB,
        metavar="N",
        help="Largest accepted upload, in MiB.",
    )
    parser.add_argument("--log-level", choices=LOG_LEVELS, default="info")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the workspace file API for one root directory (exit 2 on bad arguments)."""
    parser = _parser()
    args = parser.parse_args(argv)
    level = _TRACE if args.log_level == "trace" else logging.getLevelName(args.log_level.upper())
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    config = uvicorn.Config(
        create_app(args.root, FileLimits(max_upload_bytes=args.max_upload_mb * MiB)),
        host=args.host,
        port=args.port or 0,
        log_level=args.log_level,
        access_log=False,
        server_header=False,
        # Named rather than "auto": both are dependencies, and the C parser and event
        # loop are most of what a small request costs. No WebSocket routes: none is
        # imported.
        loop="uvloop",
        http="httptools",
        ws="none",
        # Nothing here reads the client address or scheme (and a Unix socket has none).
        proxy_headers=False,
    )
    socket_path: Path | None = args.socket_path
    if socket_path is None:
        _exit_on_signals()
        log.info("serving %s on http://%s:%s", args.root, args.host, args.port)
        uvicorn.Server(config).run()
        return

    sock = _bind_unix_socket(parser, socket_path)
    _exit_on_signals()
    log.info("serving %s on unix:%s", args.root, socket_path)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
        with contextlib.suppress(FileNotFoundError):
            socket_path.unlink()


def _bind_unix_socket(parser: argparse.ArgumentParser, path: Path) -> socket.socket:
    """Bind the socket ourselves: uvicorn's own uds mode would chmod it to 0o666."""
    try:
        remove_stale_socket(path)
        return bind_unix_socket(path)
    except FileExistsError as exc:
        parser.error(f"argument --socket: {exc}")
    except OSError as exc:
        parser.error(f"argument --socket: cannot listen on {path}: {exc}")


def _exit_on_signals() -> None:
    # uvicorn handles SIGINT/SIGTERM while serving, then restores the previous handlers
    # and re-raises the signal. Exiting via SystemExit (instead of dying from the
    # default action) lets the finally clauses remove the socket.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _raise_system_exit)


def _raise_system_exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)
