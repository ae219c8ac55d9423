"""The data plane's connection pools: one per (session, service), dropped when the
session stops.

A pool's connections come from the session's user plane (`SessionRoute.connect`): in
multi-user mode the owner's runner connects and passes us the socket, and the kernel
confirms the owner serves it before a byte goes out. No address reported by anybody is
ever dialled here.
"""

from __future__ import annotations

import socket

from oqto.control.sessions import SessionRoute
from oqto.httpclient import UpstreamPool, basic_authorization
from oqto.protocol.sessions import ServiceName

PROXIED = (ServiceName.AGENT, ServiceName.FILES)


class UpstreamClients:
    """One pool per (session, service), made on first use."""

    def __init__(self) -> None:
        self._pools: dict[tuple[str, ServiceName], UpstreamPool] = {}

    def get(self, route: SessionRoute, service: ServiceName) -> UpstreamPool:
        key = (route.session_id, service)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = self._make(route, service)
        return pool

    @staticmethod
    def _make(route: SessionRoute, service: ServiceName) -> UpstreamPool:
        async def opener() -> socket.socket:
            return await route.connect(service)

        authorization = None
        if service is ServiceName.AGENT:
            authorization = basic_authorization(
                route.agent_auth.username, route.agent_auth.password
            )
        return UpstreamPool(opener, service.value.encode(), authorization)

    async def forget(self, session_id: str) -> None:
        """Called before a session stops: its credential is about to go stale, and an
        open connection would make a service's graceful shutdown wait for it."""
        for service in PROXIED:
            pool = self._pools.pop((session_id, service), None)
            if pool is not None:
                pool.close()

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()
