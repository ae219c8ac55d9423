"""Where a user's sessions run, as a small pluggable contract (like JupyterHub's Spawner).

A backend only answers where: which user plane serves a user, how their events reach the
control plane, and how to let go of the user planes. `SessionService` drives the
lifecycle (start-up, the reconcile loop, shutdown) from the one fact a backend states:
whether sessions outlive the control plane.

- `InProcessBackend` (single-user mode): one `LocalUserPlane` inside the control plane;
  sessions are our children and stop with us.
- `RunnerBackend` (multi-user mode): each platform user's runner, reached over its socket;
  sessions outlive the control plane, so they are reconciled with the runners every
  `reconcile_interval` seconds, the first time at start.
"""

from __future__ import annotations

import abc

from oqto.control.runners import OwnedEventHandler, RunnerPool
from oqto.db.models import User
from oqto.protocol.sessions import SessionEvent
from oqto.userplane.base import UserPlane
from oqto.userplane.local import LocalUserPlane


class Backend(abc.ABC):
    # Seconds between reconcile passes when sessions outlive the control plane; None when
    # they stop with it, so rows left active by the previous run are orphans.
    reconcile_interval: float | None = None

    @abc.abstractmethod
    def userplane_for(self, user: User) -> UserPlane: ...

    @abc.abstractmethod
    def set_event_handler(self, handler: OwnedEventHandler) -> None: ...

    @abc.abstractmethod
    async def close(self) -> None:
        """Let go of every user plane (sessions that outlive us keep running)."""


class InProcessBackend(Backend):
    def __init__(self, userplane: LocalUserPlane) -> None:
        self.userplane = userplane

    def userplane_for(self, user: User) -> UserPlane:
        return self.userplane

    def set_event_handler(self, handler: OwnedEventHandler) -> None:
        async def untagged(event: SessionEvent) -> None:
            await handler(None, event)  # one user plane, one platform user

        self.userplane.set_event_handler(untagged)

    async def close(self) -> None:
        await self.userplane.close()


class RunnerBackend(Backend):
    def __init__(self, pool: RunnerPool, reconcile_interval: float) -> None:
        self.pool = pool
        self.reconcile_interval = reconcile_interval

    def userplane_for(self, user: User) -> UserPlane:
        return self.pool.userplane_for(user)

    def set_event_handler(self, handler: OwnedEventHandler) -> None:
        self.pool.on_event = handler

    async def close(self) -> None:
        await self.pool.close()
