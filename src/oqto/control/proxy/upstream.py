"""Pooled HTTP clients to each session's services, dropped when the session stops."""

from __future__ import annotations

import asyncio
import enum

import httpx

from oqto.protocol.sessions import SessionEndpoints

# Reads have no timeout: SSE streams and long agent turns are legitimately idle for long
# stretches. Connecting, writing and waiting for a pooled connection are bounded.
UPSTREAM_TIMEOUT = httpx.Timeout(connect=5.0, read=None, write=60.0, pool=10.0)


class ServiceKind(enum.StrEnum):
    AGENT = "agent"
    FILES = "files"


class UpstreamClients:
    def __init__(self) -> None:
        self._clients: dict[tuple[str, ServiceKind], httpx.AsyncClient] = {}

    def get(
        self, session_id: str, kind: ServiceKind, endpoints: SessionEndpoints
    ) -> httpx.AsyncClient:
        key = (session_id, kind)
        client = self._clients.get(key)
        if client is None:
            client = self._make(kind, endpoints)
            self._clients[key] = client
        return client

    @staticmethod
    def _make(kind: ServiceKind, endpoints: SessionEndpoints) -> httpx.AsyncClient:
        if kind is ServiceKind.AGENT:
            agent = endpoints.agent
            return httpx.AsyncClient(
                base_url=f"http://{agent.host}:{agent.port}",
                auth=httpx.BasicAuth(agent.username, agent.password),
                timeout=UPSTREAM_TIMEOUT,
            )
        return httpx.AsyncClient(
            base_url="http://files",
            transport=httpx.AsyncHTTPTransport(uds=endpoints.files_socket),
            timeout=UPSTREAM_TIMEOUT,
        )

    async def forget(self, session_id: str) -> None:
        """Called before a session stops: its endpoints (port, password) are about to go
        stale, and an idle pooled connection would make a service's graceful shutdown
        wait for it."""
        clients = [self._clients.pop((session_id, kind), None) for kind in ServiceKind]
        await asyncio.gather(*(c.aclose() for c in clients if c is not None))

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        await asyncio.gather(*(c.aclose() for c in clients))
