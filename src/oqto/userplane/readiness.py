"""Readiness probes: poll a service until it answers, with a short timeout per attempt.

opencode can accept a connection just as its port opens and then never answer that
request, so a single long-timeout probe may hang for good; many short ones do not.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

ATTEMPT_TIMEOUT = 0.5
POLL_INTERVAL = 0.05


@dataclass(frozen=True)
class HttpProbe:
    url: str
    uds: str | None = None
    auth: tuple[str, str] | None = None

    async def attempt(self, client: httpx.AsyncClient) -> bool:
        try:
            response = await client.get(self.url, auth=self.auth, timeout=ATTEMPT_TIMEOUT)
        except (httpx.TransportError, OSError):
            return False
        return response.status_code == 200

    def client(self) -> httpx.AsyncClient:
        transport = httpx.AsyncHTTPTransport(uds=self.uds) if self.uds else None
        return httpx.AsyncClient(transport=transport)


async def wait_until_ready(probe: HttpProbe, still_alive: asyncio.Future[int | None]) -> None:
    """Return when the probe succeeds; raise `ProcessExited` if the process ends first.
    The caller bounds the whole wait with its own deadline."""
    async with probe.client() as client:
        while True:
            if still_alive.done():
                raise ProcessExited(still_alive.result())
            if await probe.attempt(client):
                return
            await asyncio.sleep(POLL_INTERVAL)


class ProcessExited(Exception):
    def __init__(self, returncode: int | None) -> None:
        super().__init__(f"exited with status {returncode} before it was ready")
        self.returncode = returncode
