"""Readiness probes: poll a service until it answers, with a short timeout per attempt.

opencode can accept a connection just as its port opens and then never answer that
request, so a single long-timeout probe may hang for good; many short ones do not.
Probes go through the same verified connections and client as the proxy
(`oqto.httpclient`): the agent's password is only ever sent to a listener owned by the
session's account.
"""

from __future__ import annotations

import asyncio

from oqto.httpclient import UpstreamError, UpstreamPool, fetch

ATTEMPT_TIMEOUT = 0.5
POLL_INTERVAL = 0.05


async def _attempt(pool: UpstreamPool, path: str) -> bool:
    # asyncio.timeout, not wait_for: on Python 3.11 wait_for loses a cancellation that
    # comes as the request fails, and a stop could then not overtake a start.
    try:
        async with asyncio.timeout(ATTEMPT_TIMEOUT):
            return await fetch(pool, path) == 200
    except (UpstreamError, TimeoutError, OSError):
        return False


async def wait_until_ready(
    pool: UpstreamPool, path: str, still_alive: asyncio.Future[int | None]
) -> None:
    """Return when `GET path` answers 200; raise `ProcessExited` if the process ends first.
    The caller bounds the whole wait with its own deadline."""
    while True:
        if still_alive.done():
            raise ProcessExited(still_alive.result())
        if await _attempt(pool, path):
            return
        await asyncio.sleep(POLL_INTERVAL)


class ProcessExited(Exception):
    def __init__(self, returncode: int | None) -> None:
        super().__init__(f"exited with status {returncode} before it was ready")
        self.returncode = returncode
