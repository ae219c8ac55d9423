"""Fake user planes for fast tests of the control plane's session logic (no processes),
in the manner of JupyterHub's mock spawners: one that starts at once, one that starts only
when told to, one that never gets ready, one that fails, one whose sessions die later, one
that is unreachable and one that never answers; and a backend that gives each user their
own. Integration tests use the real ones."""

from __future__ import annotations

import asyncio
import socket

from oqto.control.backends import Backend
from oqto.control.runners import OwnedEventHandler
from oqto.db.models import User
from oqto.protocol.errors import ErrorCode
from oqto.protocol.sessions import (
    AgentAuth,
    RuntimeState,
    SandboxReport,
    ServiceName,
    SessionEvent,
    SessionRuntime,
    SessionSpec,
)
from oqto.runner.client import RunnerUnavailable
from oqto.userplane.base import EventHandler, SessionStartFailed, UserPlane, UserPlaneError


def runtime(
    session_id: str,
    state: RuntimeState = RuntimeState.RUNNING,
    sandbox: SandboxReport | None = None,
) -> SessionRuntime:
    return SessionRuntime(
        id=session_id,
        workspace="w",
        workspace_path="/nonexistent",
        state=state,
        agent_auth=AgentAuth(username="opencode", password="pw")
        if state is RuntimeState.RUNNING
        else None,
        sandbox=sandbox,
    )


class FakeUserPlane(UserPlane):
    """Starts at once. Subclasses change one behaviour each."""

    def __init__(self) -> None:
        self.running: dict[str, SessionRuntime] = {}
        # How the sessions it starts from now on report their confinement.
        self.sandbox: SandboxReport | None = None
        self.started: list[str] = []
        self.stopped: list[str] = []
        # Every get_session: a proxied request that had to ask (no cached route).
        self.asked: list[str] = []
        self.handler: EventHandler | None = None

    def set_event_handler(self, handler: EventHandler) -> None:
        self.handler = handler

    async def start_session(self, spec: SessionSpec) -> SessionRuntime:
        self.started.append(spec.id)
        self.running[spec.id] = runtime(spec.id, sandbox=self.sandbox)
        return self.running[spec.id]

    async def stop_session(self, session_id: str) -> None:
        self.stopped.append(session_id)
        self.running.pop(session_id, None)

    async def get_session(self, session_id: str) -> SessionRuntime | None:
        self.asked.append(session_id)
        return self.running.get(session_id)

    async def list_sessions(self) -> list[SessionRuntime]:
        return list(self.running.values())

    async def connect_service(self, session_id: str, service: ServiceName) -> socket.socket:
        raise UserPlaneError(ErrorCode.UPSTREAM_UNAVAILABLE, "fake user planes have no services")

    async def close(self) -> None:
        self.running.clear()

    async def die(self, session_id: str, error: str = "agent exited") -> None:
        """A service of the session dies on its own."""
        self.running.pop(session_id, None)
        assert self.handler is not None
        await self.handler(
            SessionEvent(session_id=session_id, state=RuntimeState.FAILED, error=error)
        )


class GatedUserPlane(FakeUserPlane):
    """A slow start: returns only once `release` is set; a cancelled start leaves nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.entered = asyncio.Event()
        self.cancelled: list[str] = []

    async def start_session(self, spec: SessionSpec) -> SessionRuntime:
        self.entered.set()
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled.append(spec.id)
            raise
        return await super().start_session(spec)


class NeverReadyUserPlane(FakeUserPlane):
    async def start_session(self, spec: SessionSpec) -> SessionRuntime:
        raise SessionStartFailed("agent (opencode) did not answer within 0.1 s")


class CrashingUserPlane(FakeUserPlane):
    async def start_session(self, spec: SessionSpec) -> SessionRuntime:
        raise RuntimeError("bug in the user plane")


class HungUserPlane(FakeUserPlane):
    """A runner that takes requests and never answers them."""

    async def list_sessions(self) -> list[SessionRuntime]:
        never: asyncio.Future[list[SessionRuntime]] = asyncio.get_running_loop().create_future()
        return await never

    async def stop_session(self, session_id: str) -> None:
        never: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await never


class UnreachableUserPlane(FakeUserPlane):
    def __init__(self) -> None:
        super().__init__()
        self.reachable = False

    def _check(self) -> None:
        if not self.reachable:
            raise RunnerUnavailable("cannot connect to the runner: No such file or directory")

    async def start_session(self, spec: SessionSpec) -> SessionRuntime:
        self._check()
        return await super().start_session(spec)

    async def stop_session(self, session_id: str) -> None:
        self._check()
        await super().stop_session(session_id)

    async def list_sessions(self) -> list[SessionRuntime]:
        self._check()
        return await super().list_sessions()


class FakeBackend(Backend):
    """Each platform user's sessions on their own fake user plane (`planes`, by user name;
    a `FakeUserPlane` unless set), whose events are tagged with that user as a runner's
    are. `reconcile_interval` None: sessions stop with the control plane, as in process."""

    def __init__(self, reconcile_interval: float | None = 0.05) -> None:
        self.reconcile_interval = reconcile_interval
        self.planes: dict[str, FakeUserPlane] = {}
        self.closed = False
        self._handler: OwnedEventHandler | None = None

    def userplane_for(self, user: User) -> UserPlane:
        plane = self.planes.setdefault(user.username, FakeUserPlane())
        if plane.handler is None and self._handler is not None:
            handler, owner = self._handler, user.id

            async def tagged(event: SessionEvent) -> None:
                await handler(owner, event)

            plane.set_event_handler(tagged)
        return plane

    def set_event_handler(self, handler: OwnedEventHandler) -> None:
        self._handler = handler

    async def close(self) -> None:
        self.closed = True
        if self.reconcile_interval is None:  # in process: the sessions stop with us
            await asyncio.gather(*(plane.close() for plane in self.planes.values()))
