"""Sessions as the control plane sees them: rows in the database, driven through the
owner's user plane. The database says what the person asked for; the user plane says
what is running; this module keeps the two in step."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DBSession
from sqlalchemy.orm import sessionmaker

from oqto.control.db.models import Session, SessionStatus, User, utcnow
from oqto.control.errors import ApiError
from oqto.protocol.sessions import (
    RuntimeState,
    SessionEndpoints,
    SessionEvent,
    SessionSpec,
    WorkspaceNameError,
    check_workspace_name,
)
from oqto.userplane.base import UserPlane, UserPlaneError

log = logging.getLogger(__name__)

ACTIVE = (SessionStatus.STARTING, SessionStatus.RUNNING, SessionStatus.STOPPING)
MAX_ERROR_CHARS = 8000


def not_found() -> ApiError:
    return ApiError(404, "not_found", "no such session")


class SessionService:
    def __init__(
        self,
        db: sessionmaker[DBSession],
        userplane_for: Callable[[User], UserPlane],
        max_running_per_user: int,
    ) -> None:
        self._db = db
        self._userplane_for = userplane_for
        self._max_running = max_running_per_user
        self._starting: dict[str, asyncio.Task[None]] = {}
        # Run before a session's services stop (e.g. drop pooled proxy connections).
        self.on_stop: list[Callable[[str], Awaitable[None]]] = []

    # -- reads --------------------------------------------------------------------------

    def _owned(self, db: DBSession, user: User, session_id: str) -> Session:
        row = db.get(Session, session_id)
        # Another user's session is reported exactly like a missing one (404), so ids
        # cannot be probed.
        if row is None or row.user_id != user.id:
            raise not_found()
        return row

    def list(self, user: User) -> list[Session]:
        with self._db() as db:
            rows = db.scalars(
                select(Session).where(Session.user_id == user.id).order_by(Session.created_at)
            )
            return list(rows)

    def get(self, user: User, session_id: str) -> Session:
        with self._db() as db:
            return self._owned(db, user, session_id)

    async def endpoints(self, user: User, session_id: str) -> SessionEndpoints:
        row = await asyncio.to_thread(self.get, user, session_id)
        if row.status is not SessionStatus.RUNNING:
            raise ApiError(
                503,
                "session_not_running",
                f"session is {row.status.value}" + (f": {row.error}" if row.error else ""),
                headers={"Retry-After": "1"} if row.status is SessionStatus.STARTING else None,
            )
        runtime = await self._userplane_for(user).get_session(session_id)
        if runtime is None or runtime.endpoints is None:
            raise ApiError(503, "session_not_running", "session services are not running")
        return runtime.endpoints

    # -- transitions ---------------------------------------------------------------------

    def _set(self, session_id: str, status: SessionStatus, error: str | None = None) -> None:
        with self._db.begin() as db:
            row = db.get(Session, session_id)
            if row is not None:
                row.status = status
                row.error = error[-MAX_ERROR_CHARS:] if error else None
                row.updated_at = utcnow()

    def _begin_start(self, user: User, session_id: str, workspace: str) -> None:
        task = asyncio.create_task(self._start(user, session_id, workspace))
        self._starting[session_id] = task
        task.add_done_callback(lambda _t: self._starting.pop(session_id, None))

    async def _cancel_start(self, session_id: str) -> None:
        """A stop or delete overtakes a start in progress: cancelling it makes the user
        plane tear down whatever it had started."""
        task = self._starting.pop(session_id, None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def create(self, user: User, workspace: str) -> Session:
        try:
            name = check_workspace_name(workspace)
        except WorkspaceNameError as exc:
            raise ApiError(400, "invalid_workspace", str(exc)) from None

        def insert() -> Session:
            with self._db.begin() as db:
                active = db.scalar(
                    select(func.count())
                    .select_from(Session)
                    .where(Session.user_id == user.id, Session.status.in_(ACTIVE))
                )
                if (active or 0) >= self._max_running:
                    raise ApiError(
                        409, "too_many_sessions", f"at most {self._max_running} active sessions"
                    )
                row = Session(user_id=user.id, workspace=name, status=SessionStatus.STARTING)
                db.add(row)
                db.flush()
                return row

        row = await asyncio.to_thread(insert)
        self._begin_start(user, row.id, name)
        return row

    async def _start(self, user: User, session_id: str, workspace: str) -> None:
        spec = SessionSpec(id=session_id, owner=user.username, workspace=workspace)
        try:
            await self._userplane_for(user).start_session(spec)
        except UserPlaneError as exc:
            log.warning("session start failed session=%s code=%s", session_id, exc.code)
            await asyncio.to_thread(self._set, session_id, SessionStatus.FAILED, exc.message)
            return
        except Exception as exc:
            log.exception("session start crashed session=%s", session_id)
            await asyncio.to_thread(
                self._set, session_id, SessionStatus.FAILED, f"internal error: {exc}"
            )
            return
        await asyncio.to_thread(self._set, session_id, SessionStatus.RUNNING)

    async def stop(self, user: User, session_id: str) -> Session:
        row = await asyncio.to_thread(self.get, user, session_id)
        if row.status in (SessionStatus.STOPPED, SessionStatus.FAILED):
            return row
        await asyncio.to_thread(self._set, session_id, SessionStatus.STOPPING)
        await self._stop_services(user, session_id)
        await asyncio.to_thread(self._set, session_id, SessionStatus.STOPPED)
        return await asyncio.to_thread(self.get, user, session_id)

    async def _stop_services(self, user: User, session_id: str) -> None:
        await self._cancel_start(session_id)
        await asyncio.gather(*(callback(session_id) for callback in self.on_stop))
        try:
            await self._userplane_for(user).stop_session(session_id)
        except UserPlaneError as exc:
            raise ApiError(502, exc.code, f"could not stop session: {exc.message}") from None

    async def resume(self, user: User, session_id: str) -> Session:
        row = await asyncio.to_thread(self.get, user, session_id)
        if row.status in (SessionStatus.STARTING, SessionStatus.RUNNING):
            return row
        if row.status is SessionStatus.STOPPING:
            raise ApiError(409, "session_stopping", "session is stopping; resume it afterwards")
        await asyncio.to_thread(self._set, session_id, SessionStatus.STARTING)
        self._begin_start(user, session_id, row.workspace)
        return await asyncio.to_thread(self.get, user, session_id)

    async def delete(self, user: User, session_id: str) -> None:
        row = await asyncio.to_thread(self.get, user, session_id)
        if row.status is not SessionStatus.STOPPED:
            await self._stop_services(user, session_id)

        def remove() -> None:
            with self._db.begin() as db:
                found = db.get(Session, session_id)
                if found is not None:
                    db.delete(found)

        await asyncio.to_thread(remove)

    async def on_userplane_event(self, event: SessionEvent) -> None:
        if event.state is RuntimeState.FAILED:
            await asyncio.gather(*(callback(event.session_id) for callback in self.on_stop))
            await asyncio.to_thread(self._set, event.session_id, SessionStatus.FAILED, event.error)

    # -- whole-service lifecycle ---------------------------------------------------------

    def mark_orphaned(self, reason: str) -> int:
        """After a restart in single-user mode nothing of ours survives: rows that still
        say starting/running/stopping are stopped."""
        with self._db.begin() as db:
            rows = list(db.scalars(select(Session).where(Session.status.in_(ACTIVE))))
            for row in rows:
                row.status = SessionStatus.STOPPED
                row.error = reason
                row.updated_at = utcnow()
            return len(rows)

    async def shutdown(self, userplane: UserPlane) -> None:
        await asyncio.gather(*(self._cancel_start(sid) for sid in list(self._starting)))
        await userplane.close()
        await asyncio.to_thread(self.mark_orphaned, "stopped with the server")
