"""Where sessions run, as a small pluggable contract (like JupyterHub's Spawner).

- `InProcessBackend` (single-user mode): one `LocalUserPlane` inside the control plane;
  sessions are our children and stop with us.
- `RunnerBackend` (multi-user mode): each platform user's runner, reached over its socket;
  sessions outlive the control plane, which reconciles with the runners when it starts
  and then periodically.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging

from oqto.control.runners import OwnedEventHandler, RunnerPool
from oqto.control.sessions import SessionService
from oqto.db.models import User
from oqto.protocol.sessions import SessionEvent
from oqto.userplane.base import UserPlane
from oqto.userplane.local import LocalUserPlane

log = logging.getLogger(__name__)


class Backend(abc.ABC):
    @abc.abstractmethod
    def userplane_for(self, user: User) -> UserPlane: ...

    @abc.abstractmethod
    def set_event_handler(self, handler: OwnedEventHandler) -> None: ...

    @abc.abstractmethod
    async def startup(self, sessions: SessionService) -> None: ...

    @abc.abstractmethod
    async def shutdown(self, sessions: SessionService) -> None: ...


class InProcessBackend(Backend):
    def __init__(self, userplane: LocalUserPlane) -> None:
        self.userplane = userplane

    def userplane_for(self, user: User) -> UserPlane:
        return self.userplane

    def set_event_handler(self, handler: OwnedEventHandler) -> None:
        async def untagged(event: SessionEvent) -> None:
            await handler(None, event)  # one user plane, one platform user

        self.userplane.set_event_handler(untagged)

    async def startup(self, sessions: SessionService) -> None:
        await asyncio.to_thread(sessions.mark_orphaned, "the server restarted")

    async def shutdown(self, sessions: SessionService) -> None:
        await sessions.cancel_starts()
        await self.userplane.close()
        await asyncio.to_thread(sessions.mark_orphaned, "stopped with the server")


class RunnerBackend(Backend):
    def __init__(self, pool: RunnerPool, reconcile_interval: float) -> None:
        self.pool = pool
        self._interval = reconcile_interval
        self._task: asyncio.Task[None] | None = None

    def userplane_for(self, user: User) -> UserPlane:
        return self.pool.userplane_for(user)

    def set_event_handler(self, handler: OwnedEventHandler) -> None:
        self.pool.on_event = handler

    async def startup(self, sessions: SessionService) -> None:
        async def loop() -> None:
            while True:
                try:
                    await sessions.reconcile()
                except Exception:
                    log.exception("reconciling sessions with runners failed")
                await asyncio.sleep(self._interval)

        self._task = asyncio.create_task(loop())

    async def shutdown(self, sessions: SessionService) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await sessions.cancel_starts()
        await self.pool.close()
