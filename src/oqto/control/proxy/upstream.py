"""Pooled HTTP clients to each session's services, dropped when the session stops.

A client's connections come from the session's user plane (`SessionRoute.connect`): in
multi-user mode the owner's runner connects and passes us the socket, and the kernel
confirms the owner serves it before a byte goes out. No address reported by anybody is
ever dialled here."""

from __future__ import annotations

import asyncio
import socket

import httpx

from oqto.control.sessions import SessionRoute
from oqto.protocol.sessions import ServiceName
from oqto.sockclient import OpenerTransport

# Reads have no timeout: SSE streams and long agent turns are legitimately idle for long
# stretches. Connecting, writing and waiting for a pooled connection are bounded.
UPSTREAM_TIMEOUT = httpx.Timeout(connect=5.0, read=None, write=60.0, pool=10.0)
PROXIED = (ServiceName.AGENT, ServiceName.FILES)


class UpstreamClients:
    def __init__(self) -> None:
        self._clients: dict[tuple[str, ServiceName], httpx.AsyncClient] = {}

    def get(self, route: SessionRoute, service: ServiceName) -> httpx.AsyncClient:
        key = (route.session_id, service)
        client = self._clients.get(key)
        if client is None:
            client = self._make(route, service)
            self._clients[key] = client
        return client

    @staticmethod
    def _make(route: SessionRoute, service: ServiceName) -> httpx.AsyncClient:
        async def opener() -> socket.socket:
            return await route.connect(service)

        auth = None
        if service is ServiceName.AGENT:
            auth = httpx.BasicAuth(route.agent_auth.username, route.agent_auth.password)
        return httpx.AsyncClient(
            base_url=f"http://{service.value}",
            transport=OpenerTransport(opener),
            auth=auth,
            timeout=UPSTREAM_TIMEOUT,
        )

    async def forget(self, session_id: str) -> None:
        """Called before a session stops: its credential is about to go stale, and an
        idle pooled connection would make a service's graceful shutdown wait for it."""
        clients = [self._clients.pop((session_id, service), None) for service in PROXIED]
        await asyncio.gather(*(c.aclose() for c in clients if c is not None))

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        await asyncio.gather(*(c.aclose() for c in clients))
