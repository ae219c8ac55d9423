"""The main loop of a socket daemon (`oqto-runner`, `oqto-usermgr`) once it listens: tell
systemd it is ready, wait for SIGTERM or SIGINT, tell systemd it is stopping, close, and
remove the socket."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

from oqto.osutil.sdnotify import notify


async def serve_until_signalled(socket: Path, close: Callable[[], Awaitable[None]]) -> None:
    """Call once the daemon listens on `socket`; `close` stops it serving."""
    notify("READY=1")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    notify("STOPPING=1")
    await close()
    socket.unlink(missing_ok=True)
