"""What each runner method does. Nothing from the wire is ever executed: the user plane
builds every command line itself."""

from __future__ import annotations

import os
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel

from oqto.protocol.runner import (
    Empty,
    Method,
    ParamsT,
    PingResult,
    ProtocolError,
    ResultT,
    RunnerMethod,
    SessionConnectParams,
    SessionGetResult,
    SessionIdParams,
    SessionListResult,
    SessionResult,
    SessionStartParams,
)
from oqto.userplane.base import UserPlaneError
from oqto.userplane.local import LocalUserPlane

Handler = Callable[[Any], Awaitable[BaseModel]]


def _entry(
    method: RunnerMethod[ParamsT, ResultT], handler: Callable[[ParamsT], Awaitable[ResultT]]
) -> tuple[str, Handler]:
    # Typed per method: a handler that takes or returns the wrong model fails type checking.
    return method.name, handler


class RunnerHandlers:
    def __init__(self, userplane: LocalUserPlane, version: str) -> None:
        self._userplane = userplane
        self._version = version
        self.table: dict[str, Handler] = dict(
            [
                _entry(Method.PING, self.ping),
                _entry(Method.SESSION_START, self.session_start),
                _entry(Method.SESSION_STOP, self.session_stop),
                _entry(Method.SESSION_GET, self.session_get),
                _entry(Method.SESSION_LIST, self.session_list),
            ]
        )

    async def ping(self, _params: Empty) -> PingResult:
        return PingResult(uid=os.getuid(), version=self._version)

    async def session_start(self, params: SessionStartParams) -> SessionResult:
        try:
            return SessionResult(session=await self._userplane.start_session(params.spec))
        except UserPlaneError as exc:
            raise ProtocolError(exc.code, exc.message) from None

    async def session_stop(self, params: SessionIdParams) -> Empty:
        await self._userplane.stop_session(params.id)
        return Empty()

    async def session_get(self, params: SessionIdParams) -> SessionGetResult:
        return SessionGetResult(session=await self._userplane.get_session(params.id))

    async def session_list(self, _params: Empty) -> SessionListResult:
        return SessionListResult(sessions=await self._userplane.list_sessions())

    async def connect(self, params: SessionConnectParams) -> socket.socket:
        """A connection to one of our own session's services, for the control plane to
        use (passed over our socket): it never needs access to the service sockets."""
        try:
            return await self._userplane.connect_service(params.id, params.service)
        except UserPlaneError as exc:
            raise ProtocolError(exc.code, exc.message) from None
