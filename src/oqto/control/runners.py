"""Multi-user mode: each platform user's sessions run under their Linux account's runner.
The control plane never falls back to doing the work itself."""

from __future__ import annotations

import asyncio
import pwd
from collections.abc import Awaitable, Callable
from pathlib import Path

from oqto.config.paths import runner_socket_path
from oqto.db.models import User
from oqto.protocol.errors import ErrorCode
from oqto.protocol.sessions import SessionEvent
from oqto.runner.client import RunnerClient, RunnerUnavailable, RunnerUserPlane
from oqto.userplane.base import UserPlane, UserPlaneError

# (platform user id whose runner sent it, event)
OwnedEventHandler = Callable[[str | None, SessionEvent], Awaitable[None]]


class RunnerPool:
    def __init__(
        self,
        socket_pattern: str,
        call_timeout: float,
        start_timeout: float,
    ) -> None:
        self._pattern = socket_pattern
        self._call_timeout = call_timeout
        self._start_timeout = start_timeout
        self.on_event: OwnedEventHandler | None = None
        self._planes: dict[int, RunnerUserPlane] = {}

    def socket_for(self, uid: int, linux_user: str) -> Path:
        return runner_socket_path(self._pattern, uid, linux_user)

    def userplane_for(self, user: User) -> UserPlane:
        if user.linux_user is None or user.linux_uid is None:
            raise RunnerUnavailable(
                f"user {user.username!r} has no Linux account yet; provision it with "
                f"`oqtoctl user create {user.username}`"
            )
        try:
            account = pwd.getpwnam(user.linux_user)
        except KeyError:
            raise RunnerUnavailable(
                f"Linux account {user.linux_user!r} of user {user.username!r} does not exist"
            ) from None
        # An account deleted and re-created under the same name gets a new uid: running
        # anything for this user under it would hand their sessions to someone else.
        if account.pw_uid != user.linux_uid:
            raise UserPlaneError(
                ErrorCode.ACCOUNT_MISMATCH,
                f"Linux account {user.linux_user!r} now has uid {account.pw_uid}, not "
                f"{user.linux_uid}; refusing to use it",
            )
        plane = self._planes.get(account.pw_uid)
        if plane is None:
            client = RunnerClient(
                self.socket_for(account.pw_uid, user.linux_user),
                timeout=self._call_timeout,
                expected_uid=account.pw_uid,
            )
            plane = RunnerUserPlane(client, self._start_timeout)
            if self.on_event is not None:
                # Every event is tagged with the user whose runner sent it, so it can only
                # ever touch that user's sessions.
                handler, owner = self.on_event, user.id

                async def tagged(event: SessionEvent) -> None:
                    await handler(owner, event)

                plane.set_event_handler(tagged)
            self._planes[account.pw_uid] = plane
        return plane

    async def close(self) -> None:
        planes, self._planes = list(self._planes.values()), {}
        await asyncio.gather(*(p.close() for p in planes))
