"""The user-plane contract the control plane programs against."""

from __future__ import annotations

import abc
import socket
from collections.abc import Awaitable, Callable

from oqto.protocol.errors import ErrorCode, OqtoError
from oqto.protocol.sessions import ServiceName, SessionEvent, SessionRuntime, SessionSpec

EventHandler = Callable[[SessionEvent], Awaitable[None]]


class UserPlaneError(OqtoError):
    """A request the user plane refused or could not carry out (in process, or reported by
    a runner with the same code)."""


class SessionStartFailed(UserPlaneError):
    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.START_FAILED, message)


class UserPlane(abc.ABC):
    """Runs sessions for one Linux account.

    Lifecycle: construct, `set_event_handler`, use, `close`. `start_session` returns once
    every service of the session answers, or raises `SessionStartFailed` with the reason
    and the tail of the failing service's log; nothing of a failed start is left running.
    """

    @abc.abstractmethod
    def set_event_handler(self, handler: EventHandler) -> None: ...

    @abc.abstractmethod
    async def start_session(self, spec: SessionSpec) -> SessionRuntime: ...

    @abc.abstractmethod
    async def stop_session(self, session_id: str) -> None:
        """Stop every process of the session. Stopping an unknown session is not an error."""

    @abc.abstractmethod
    async def get_session(self, session_id: str) -> SessionRuntime | None: ...

    @abc.abstractmethod
    async def list_sessions(self) -> list[SessionRuntime]: ...

    @abc.abstractmethod
    async def connect_service(self, session_id: str, service: ServiceName) -> socket.socket:
        """A connected stream socket to one service of a running session, already proven
        (by the kernel, not by anything the user plane says) to be served by the account
        that owns the session. The caller owns the socket. This is the only way the
        control plane reaches a session service: it never connects to an address itself."""

    @abc.abstractmethod
    async def close(self) -> None: ...
