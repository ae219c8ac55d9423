"""`oqto`: the control-plane command line."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
import uvloop

from oqto import package_version
from oqto.cliutil import VersionOption, err, fail
from oqto.config import BackendMode, ConfigError, load_config
from oqto.config.model import parse_listen
from oqto.control.app import build_context, create_app
from oqto.control.bootstrap import BootstrapError, ensure_admin
from oqto.control.frontdoor import uvicorn_config
from oqto.logs import setup_logging
from oqto.osutil.sdnotify import notify

app = typer.Typer(
    rich_markup_mode=None,
    name="oqto",
    help="Oqto control plane.",
    no_args_is_help=True,
    add_completion=False,
)


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must be IPPROTO_TCP, not 0: asyncio only sets TCP_NODELAY on accepted sockets
    # whose proto says TCP, and without it every keep-alive response waits ~40 ms for a
    # delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    # Not inheritable (Python's default, said here because it matters): uvloop spawns
    # through libuv, which has no close_fds, so an inheritable listener would be held
    # by every session process, and a session's agent could accept the control plane's
    # connections.
    sock.set_inheritable(False)
    return sock


def browser_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


@app.command()
def serve(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Config file (default: $OQTO_CONFIG; else /etc/oqto/config.toml under "
            "systemd, ~/.config/oqto/config.toml otherwise; none: defaults).",
        ),
    ] = None,
    mode: Annotated[
        BackendMode | None, typer.Option("--mode", help="Backend mode; overrides [backend] mode.")
    ] = None,
    single_user: Annotated[
        bool,
        typer.Option(
            "--single-user", help="Run every session as the current Linux user, no runner."
        ),
    ] = False,
    listen: Annotated[
        str | None, typer.Option("--listen", help="HOST:PORT; overrides [server] listen.")
    ] = None,
) -> None:
    """Run the control plane."""
    try:
        loaded = load_config(config)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    cfg = loaded.config
    setup_logging(cfg.logging.level, cfg.logging.format.value)
    chosen = mode or cfg.backend.mode
    if chosen is BackendMode.CONTAINER:
        raise fail("--mode container is not supported by this version of Oqto; use --mode local")
    single = single_user or cfg.local.single_user
    try:
        host, port = parse_listen(listen or cfg.server.listen)
    except ValueError as exc:
        raise fail(f"--listen: {exc}") from None
    # The port first: a taken port must fail before the database is migrated or the first
    # administrator created, or the generated password would be made and never shown.
    try:
        sock = bind(host, port)
    except OSError as exc:
        raise fail(f"cannot listen on {host}:{port} ([server] listen): {exc.strerror}") from None
    try:
        ctx, backend = build_context(cfg, single_user=single)
        created = ensure_admin(ctx.db)
    except (BootstrapError, ConfigError) as exc:  # a path or database a key names is unusable
        sock.close()
        raise fail(str(exc)) from None

    if created is not None:
        if created.generated_password:
            err.print(
                f"Created administrator [bold]{created.username}[/] with password "
                f"[bold]{created.generated_password}[/] (shown once; change it after login)",
                highlight=False,
                soft_wrap=True,
            )
        else:
            err.print(
                f"Created administrator [bold]{created.username}[/]",
                highlight=False,
                soft_wrap=True,
            )
    err.print(
        f"Oqto ({'single-user' if single else 'multi-user'}) config: "
        f"{loaded.path or 'defaults'}; data: {ctx.paths.data_dir}",
        highlight=False,
    )
    err.print(f"Open [bold]{browser_url(host, port)}[/] in your browser", highlight=False)
    server = uvicorn.Server(uvicorn_config(create_app(ctx, backend), cfg.server))
    # uvloop: the proxy's per-request cost is mostly event-loop and transport work, which
    # uvloop does in C (bench/README.md, "the data plane").
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(_serve(server, sock))
    if not server.started:
        sys.exit(1)


async def _tell_systemd(server: uvicorn.Server) -> None:
    """`Type=notify`: READY=1 once uvicorn accepts connections, STOPPING=1 when it begins
    to shut down (no-ops outside systemd)."""
    while not server.started:
        if server.should_exit:
            return
        await asyncio.sleep(0.05)
    notify("READY=1")
    while not server.should_exit:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
        await asyncio.sleep(0.2)
    notify("STOPPING=1")


async def _serve(server: uvicorn.Server, sock: socket.socket) -> None:
    notifier = asyncio.create_task(_tell_systemd(server))
    try:
        await server.serve(sockets=[sock])
    finally:
        notifier.cancel()


@app.callback()
def _root(version: VersionOption = False) -> None:
    """Oqto control plane."""


@app.command()
def version() -> None:
    """Print the version."""
    print(package_version())


def main() -> None:
    app()
