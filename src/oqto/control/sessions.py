"""Sessions as the control plane sees them: rows in the database, driven through the
owner's user plane. The database says what the person asked for; the user plane says
what is running; this module keeps the two in step."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import math
import socket
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session as DBSession
from sqlalchemy.orm import sessionmaker

from oqto.control.backends import Backend
from oqto.db.locks import lock_user_row
from oqto.db.models import Session, SessionStatus, User, utcnow
from oqto.protocol.errors import ErrorCode, OqtoError
from oqto.protocol.sessions import (
    MAX_READY_AFTER,
    AgentAuth,
    RuntimeState,
    SandboxReport,
    ServiceName,
    ServicePhase,
    ServiceProgress,
    SessionEvent,
    SessionRuntime,
    SessionSpec,
    WorkspaceNameError,
    check_workspace_name,
)
from oqto.sockclient import OpenerError
from oqto.userplane.base import UserPlane, UserPlaneError

log = logging.getLogger(__name__)

ACTIVE = (SessionStatus.STARTING, SessionStatus.RUNNING, SessionStatus.STOPPING)
MAX_ERROR_CHARS = 8000
# Users whose runners one reconcile pass asks at once: each check is a socket round trip
# and a few database writes, so this many keep a pass over thousands of users short while
# bounding open connections and worker threads.
RECONCILE_CONCURRENCY = 16
# Why a session stopped, kept with the row (its `error`) and shown where it is listed.
STOPPED_BY_OWNER = "stopped by its owner"
STOPPED_BY_ADMIN = "stopped by an administrator"
STOPPED_USER_DISABLED = "its user was disabled"
STOPPED_USER_DELETED = "its user was deleted"
# Single-user mode: sessions stop with the server. Both say the session was running when
# it stopped, so a restore starts it again (unlike one a person stopped).
STOPPED_WITH_SERVER = "stopped with the server"
SERVER_RESTARTED = "the server restarted"
# How often the last activity of used sessions is written to their rows: at most one
# write per session per interval, and none on the proxy's path.
ACTIVITY_FLUSH_SECONDS = 60.0
# A start's steps in the order they happen (failing ends it); a report may only move a
# service forward.
_PHASE_ORDER = (
    ServicePhase.WAITING,
    ServicePhase.STARTED,
    ServicePhase.READY,
    ServicePhase.FAILED,
)


@dataclass(frozen=True)
class SessionFacts:
    ready_after: dict[str, float] | None  # seconds from spawn to answering, per service
    last_active_at: dt.datetime | None
    # Per service while it starts (and how far a failed start got); None otherwise.
    progress: list[ServiceProgress] | None = None


@dataclass
class _StartProgress:
    """How far the start in flight of one session got, as its owner's user plane said."""

    owner_id: str
    services: dict[ServiceName, ServiceProgress]

    def listed(self) -> list[ServiceProgress]:
        waiting = ServicePhase.WAITING
        return [
            self.services.get(name) or ServiceProgress(service=name, phase=waiting)
            for name in ServiceName
        ]

    def advance(self, report: ServiceProgress) -> bool:
        """Take a report that moves its service forward (or fails it); False for a repeat
        or a step back, so a chatty runner costs one announcement per step at most."""
        current = self.services.get(report.service)
        if current is not None and (
            _PHASE_ORDER.index(report.phase) <= _PHASE_ORDER.index(current.phase)
        ):
            return False
        if report.phase is not ServicePhase.READY and report.ready_after is not None:
            report = report.model_copy(update={"ready_after": None})
        self.services[report.service] = report
        return True


def checked_ready_after(reported: dict[str, float]) -> dict[str, float]:
    """A user plane's start-up times, as far as they can be true: one per known service,
    a finite number of seconds no longer than any start may take."""
    known = {name.value for name in ServiceName}
    return {
        name: seconds
        for name, seconds in reported.items()
        if name in known and math.isfinite(seconds) and 0 <= seconds <= MAX_READY_AFTER
    }


class SessionError(OqtoError):
    """A session request refused for what the session is (missing, not running, over the
    cap...). User-plane failures pass through as the `UserPlaneError` they are; the HTTP
    boundary maps both by code."""


def not_found() -> SessionError:
    return SessionError(ErrorCode.NOT_FOUND, "no such session")


@dataclass(frozen=True)
class SessionRoute:
    """How the proxy reaches a running session: connections come from the owner's user
    plane (which proves who serves them), never from an address anybody reported."""

    session_id: str
    userplane: UserPlane
    agent_auth: AgentAuth

    async def connect(self, service: ServiceName) -> socket.socket:
        try:
            return await self.userplane.connect_service(self.session_id, service)
        except UserPlaneError as exc:
            raise OpenerError(exc.message, exc.code) from None


class SessionService:
    def __init__(
        self,
        db: sessionmaker[DBSession],
        backend: Backend,
        max_running_per_user: int,
        restore_on_start: bool = False,
    ) -> None:
        self._db = db
        self._backend = backend
        self._userplane_for = backend.userplane_for
        self._max_running = max_running_per_user
        # Only where sessions stop with the server (single-user): elsewhere they outlive it.
        self._restore_on_start = restore_on_start
        self._starting: dict[str, asyncio.Task[None]] = {}
        self._progress: dict[str, _StartProgress] = {}
        self._reconciling: asyncio.Task[None] | None = None
        self._flush_interval = ACTIVITY_FLUSH_SECONDS
        self._flushing: asyncio.Task[None] | None = None
        # Running sessions only: session id -> (owner's user id, route).
        self._routes: dict[str, tuple[str, SessionRoute]] = {}
        self._ready_after: dict[str, dict[str, float]] = {}
        self._active_at: dict[str, float] = {}  # session id -> epoch seconds
        self._active_written: dict[str, float] = {}  # what the rows hold of _active_at
        # Run before a session's services stop (e.g. drop pooled proxy connections).
        self.on_stop: list[Callable[[str], Awaitable[None]]] = []
        # Told of every change (user id, session id, row or None when deleted), e.g. to push
        # it to browsers. Called on the event loop: listeners must be quick and not block.
        self.on_change: list[Callable[[str, str, Session | None], None]] = []
        backend.set_event_handler(self.on_userplane_event)

    # -- reads --------------------------------------------------------------------------

    def _owned(self, db: DBSession, user: User, session_id: str) -> Session:
        row = db.get(Session, session_id)
        # Another user's session is reported exactly like a missing one (404), so ids
        # cannot be probed.
        if row is None or row.user_id != user.id:
            raise not_found()
        return row

    def list_for(self, user: User) -> list[Session]:
        with self._db() as db:
            rows = db.scalars(
                select(Session).where(Session.user_id == user.id).order_by(Session.created_at)
            )
            return list(rows)

    def get(self, user: User, session_id: str) -> Session:
        with self._db() as db:
            return self._owned(db, user, session_id)

    async def route(self, user: User, session_id: str) -> SessionRoute:
        # Proxied requests are the hot path: a session that is running (it is in the cache
        # exactly while it is) costs neither a database read nor a user-plane call. The
        # entry goes when the session stops, fails or is deleted.
        cached = self._routes.get(session_id)
        if cached is not None and cached[0] == user.id:
            return cached[1]
        row = await asyncio.to_thread(self.get, user, session_id)
        if row.status is not SessionStatus.RUNNING:
            starting = row.status is SessionStatus.STARTING
            raise SessionError(
                ErrorCode.SESSION_STARTING if starting else ErrorCode.SESSION_NOT_RUNNING,
                f"session is {row.status.value}" + (f": {row.error}" if row.error else ""),
            )
        userplane = self._userplane_for(user)
        runtime = await userplane.get_session(session_id)
        # A runner answers for its own user only, and only about the session asked for.
        route = None if runtime is None else self._cache_route(user, session_id, userplane, runtime)
        if route is None:
            raise SessionError(ErrorCode.SESSION_NOT_RUNNING, "session services are not running")
        return route

    # -- transitions ---------------------------------------------------------------------

    def _set(
        self,
        session_id: str,
        status: SessionStatus,
        error: str | None,
        expected: SessionStatus | None,
        sandbox: SandboxReport | None,
    ) -> Session | None:
        """In a worker thread: the changed row, or None when it is gone or no longer in
        the `expected` state (somebody else changed it since it was read). The sandbox
        report is the latest run's: written on entering running, cleared on entering
        starting (a refused start must not show the previous run's), kept otherwise."""
        with self._db.begin() as db:
            row = db.get(Session, session_id)
            if row is None or (expected is not None and row.status is not expected):
                return None
            row.status = status
            row.error = error[-MAX_ERROR_CHARS:] if error else None
            if status in (SessionStatus.RUNNING, SessionStatus.STARTING):
                row.sandbox = sandbox
            row.updated_at = utcnow()
            return row

    async def _transition(
        self,
        session_id: str,
        status: SessionStatus,
        error: str | None = None,
        expected: SessionStatus | None = None,
        sandbox: SandboxReport | None = None,
    ) -> bool:
        """Write the change, then announce it on the event loop; False when `_set` made
        none."""
        row = await asyncio.to_thread(self._set, session_id, status, error, expected, sandbox)
        if row is None:
            return False
        self._changed(row.user_id, session_id, row)
        return True

    def _changed(self, user_id: str, session_id: str, row: Session | None) -> None:
        for listener in self.on_change:
            listener(user_id, session_id, row)

    def _begin_start(self, user: User, session_id: str, workspace: str) -> None:
        self._progress[session_id] = _StartProgress(user.id, {})
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
            raise SessionError(ErrorCode.INVALID_WORKSPACE, str(exc)) from None

        def insert() -> Session:
            with self._db.begin() as db:
                # Count and insert atomically: the first statement takes the write lock
                # (SQLite) or locks the user's row (PostgreSQL), so concurrent creates
                # queue here instead of all counting the same number.
                lock_user_row(db, user.id)
                active = db.scalar(
                    select(func.count())
                    .select_from(Session)
                    .where(Session.user_id == user.id, Session.status.in_(ACTIVE))
                )
                if (active or 0) >= self._max_running:
                    raise SessionError(
                        ErrorCode.TOO_MANY_SESSIONS, f"at most {self._max_running} active sessions"
                    )
                row = Session(user_id=user.id, workspace=name, status=SessionStatus.STARTING)
                db.add(row)
                db.flush()
                return row

        row = await asyncio.to_thread(insert)
        self._changed(user.id, row.id, row)
        self._begin_start(user, row.id, name)
        return row

    async def _start(self, user: User, session_id: str, workspace: str) -> None:
        spec = SessionSpec(id=session_id, owner=user.username, workspace=workspace)
        userplane = self._userplane_for(user)
        try:
            runtime = await userplane.start_session(spec)
        except UserPlaneError as exc:
            log.warning("session start failed session=%s code=%s", session_id, exc.code)
            await self._transition(session_id, SessionStatus.FAILED, exc.message)
            return
        except Exception as exc:
            log.exception("session start crashed session=%s", session_id)
            await self._transition(session_id, SessionStatus.FAILED, f"internal error: {exc}")
            return
        # Route first, then announce: a browser that reacts to "running" at once must not
        # cost a runner round trip.
        self._cache_route(user, session_id, userplane, runtime)
        # An answer about another session says nothing about how this one is confined.
        report = runtime.sandbox if runtime.id == session_id else None
        ready_after = checked_ready_after(runtime.ready_after) if runtime.id == session_id else {}
        if ready_after:
            self._ready_after[session_id] = ready_after
        # Running: its start-up times say the rest. A failed start keeps its progress, which
        # shows how far it got.
        self._progress.pop(session_id, None)
        await self._transition(session_id, SessionStatus.RUNNING, sandbox=report)

    def _cache_route(
        self, user: User, session_id: str, userplane: UserPlane, runtime: SessionRuntime
    ) -> SessionRoute | None:
        """Remember how to reach a session its owner's user plane reports running; an
        answer about another session, or without credentials, gives no route."""
        if runtime.id != session_id or runtime.agent_auth is None:
            return None
        route = SessionRoute(session_id, userplane, runtime.agent_auth)
        self._routes[session_id] = (user.id, route)
        return route

    async def stop(self, user: User, session_id: str, reason: str = STOPPED_BY_OWNER) -> Session:
        """Stop the session's services; `reason` is kept with the stopped row (`error`,
        which says why a session is not running) and shown where it is listed."""
        row = await asyncio.to_thread(self.get, user, session_id)
        if row.status in (SessionStatus.STOPPED, SessionStatus.FAILED):
            return row
        await self._transition(session_id, SessionStatus.STOPPING)
        try:
            await self._stop_services(user, session_id)
        except UserPlaneError:
            # Nothing is known to have stopped: say what the session was, not "stopping".
            await self._transition(session_id, row.status, row.error, sandbox=row.sandbox)
            raise
        await self._transition(session_id, SessionStatus.STOPPED, reason)
        return await asyncio.to_thread(self.get, user, session_id)

    # -- what the rows do not hold ------------------------------------------------------

    def touch(self, session_id: str) -> None:
        """A request reached the session's services (called per proxied request: a dict
        write, nothing more; `flush_activity` takes it to the row later)."""
        self._active_at[session_id] = time.time()

    def facts(self, session_id: str) -> SessionFacts:
        """This process's own knowledge of a session: how fast its run became ready, when
        it was last used through us (newer than the row's until the next flush) and how
        far a start got. Only the last is written to the row."""
        active = self._active_at.get(session_id)
        progress = self._progress.get(session_id)
        return SessionFacts(
            ready_after=self._ready_after.get(session_id),
            last_active_at=dt.datetime.fromtimestamp(active, dt.UTC) if active else None,
            progress=progress.listed() if progress is not None else None,
        )

    def flush_activity(self) -> int:
        """In a worker thread: write each session's last activity that changed since the
        last flush to its row (not a state change: `updated_at` stays); returns how many
        rows were written."""
        pending = {
            sid: at
            for sid, at in list(self._active_at.items())
            if self._active_written.get(sid) != at
        }
        if not pending:
            return 0
        with self._db.begin() as db:
            for sid, at in pending.items():
                db.execute(
                    update(Session)
                    .where(Session.id == sid)
                    .values(
                        last_active_at=dt.datetime.fromtimestamp(at, dt.UTC),
                        updated_at=Session.updated_at,
                    )
                )
        self._active_written.update(pending)
        return len(pending)

    async def _flush_activity_forever(self) -> None:
        while True:
            await asyncio.sleep(self._flush_interval)
            try:
                await asyncio.to_thread(self.flush_activity)
            except Exception:
                # A database hiccup must not end the flushing for good; the next one retries.
                log.exception("writing the sessions' last activity failed")

    def _take_progress(self, owner_id: str | None, event: SessionEvent) -> bool:
        """Take one step of a start, if it can be true: a start this server has in flight,
        reported by its owner's user plane, moving a known service forward (the schema
        already refused unknown services, any text, numbers out of range). Memory only,
        bounded by the starts in flight; True when something changed."""
        progress = self._progress.get(event.session_id)
        if (
            event.progress is None
            or progress is None
            or event.session_id not in self._starting
            or (owner_id is not None and owner_id != progress.owner_id)
        ):
            log.debug("ignoring start progress for session %s", event.session_id[:64])
            return False
        return progress.advance(event.progress)

    async def _forget(self, session_id: str) -> None:
        self._routes.pop(session_id, None)
        self._ready_after.pop(session_id, None)
        self._progress.pop(session_id, None)
        await asyncio.gather(*(callback(session_id) for callback in self.on_stop))

    async def _stop_services(self, user: User, session_id: str) -> None:
        await self._cancel_start(session_id)
        await self._forget(session_id)
        await self._userplane_for(user).stop_session(session_id)

    async def resume(self, user: User, session_id: str) -> Session:
        row = await asyncio.to_thread(self.get, user, session_id)
        if row.status in (SessionStatus.STARTING, SessionStatus.RUNNING):
            return row
        if row.status is SessionStatus.STOPPING:
            raise SessionError(
                ErrorCode.SESSION_STOPPING, "session is stopping; resume it afterwards"
            )
        await self._transition(session_id, SessionStatus.STARTING)
        self._begin_start(user, session_id, row.workspace)
        return await asyncio.to_thread(self.get, user, session_id)

    async def delete(self, user: User, session_id: str) -> None:
        row = await asyncio.to_thread(self.get, user, session_id)
        # A failed session was already torn down by its user plane.
        if row.status not in (SessionStatus.STOPPED, SessionStatus.FAILED):
            await self._stop_services(user, session_id)

        self._active_at.pop(session_id, None)
        self._active_written.pop(session_id, None)
        self._progress.pop(session_id, None)

        def remove() -> None:
            with self._db.begin() as db:
                found = db.get(Session, session_id)
                if found is not None:
                    db.delete(found)

        await asyncio.to_thread(remove)
        self._changed(user.id, session_id, None)

    async def on_userplane_event(self, owner_id: str | None, event: SessionEvent) -> None:
        """A session changed on its own (a service died). `owner_id` is the platform user
        whose user plane said so (None: the single in-process one): a runner's events
        count for its own user's sessions only, so one user cannot fail another's. A
        `starting` event reports a step of a start in flight (`_take_progress`)."""
        if event.state is RuntimeState.STARTING:
            if self._take_progress(owner_id, event):
                row = await asyncio.to_thread(self._row, event.session_id)
                if row is not None and row.status is SessionStatus.STARTING:
                    self._changed(row.user_id, row.id, row)
            return
        if event.state not in (RuntimeState.FAILED, RuntimeState.STOPPED):
            return
        if owner_id is not None:
            row = await asyncio.to_thread(self._row, event.session_id)
            if row is None or row.user_id != owner_id:
                log.warning(
                    "ignoring a state event for session %s from the user plane of user %s, "
                    "who does not own it",
                    event.session_id,
                    owner_id,
                )
                return
        await self._forget(event.session_id)
        status = SessionStatus(event.state.value)
        await self._transition(event.session_id, status, event.error)

    def _row(self, session_id: str) -> Session | None:
        with self._db() as db:
            return db.get(Session, session_id)

    # -- whole-service lifecycle ---------------------------------------------------------

    async def startup(self) -> None:
        """Bring the rows in step with what survived the previous run, and keep them so.
        Sessions that outlive the control plane are reconciled with their user planes at
        once and then every `reconcile_interval`, in the background (a hung runner must
        not hold up serving); sessions that stopped with it are marked stopped."""
        interval = self._backend.reconcile_interval
        if interval is None:
            restore = await asyncio.to_thread(self._mark_orphaned, SERVER_RESTARTED)
            if self._restore_on_start:
                await self._restore(restore)
        else:
            self._reconciling = asyncio.create_task(self._reconcile_forever(interval))
        self._flushing = asyncio.create_task(self._flush_activity_forever())

    async def _restore(self, session_ids: list[str]) -> None:
        """Start again the sessions that were running when the server stopped, as their
        owners would by resuming them (a disabled owner's stay stopped)."""
        for session_id in session_ids:
            row = await asyncio.to_thread(self._row, session_id)
            owner = await asyncio.to_thread(self._user, row.user_id) if row else None
            if row is None or owner is None or owner.disabled:
                continue
            if await self._transition(
                session_id, SessionStatus.STARTING, expected=SessionStatus.STOPPED
            ):
                log.info("restoring session %s (%s)", session_id, row.workspace)
                self._begin_start(owner, session_id, row.workspace)

    def _user(self, user_id: str) -> User | None:
        with self._db() as db:
            return db.get(User, user_id)

    async def shutdown(self) -> None:
        """Stop reconciling, cancel starts in flight and let go of the user planes; sessions
        that do not outlive the control plane are marked stopped with it."""
        for loop in (self._reconciling, self._flushing):
            if loop is not None:
                loop.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await loop
        self._reconciling = self._flushing = None
        await asyncio.to_thread(self.flush_activity)
        await asyncio.gather(*(self._cancel_start(sid) for sid in list(self._starting)))
        await self._backend.close()
        if self._backend.reconcile_interval is None:
            await asyncio.to_thread(self._mark_orphaned, STOPPED_WITH_SERVER)

    async def _reconcile_forever(self, interval: float) -> None:
        while True:
            try:
                await self.reconcile()
            except Exception:
                # A database hiccup must not end reconciling for good.
                log.exception("reconciling sessions with their user planes failed")
            await asyncio.sleep(interval)

    async def reconcile(self) -> None:
        """One pass making the database agree with what each user's user plane actually
        runs: a live session is never shown as stopped, a dead one never as running, and a
        session the database does not know is stopped. Users are checked concurrently (at
        most RECONCILE_CONCURRENCY at once) and each user-plane call may take one
        `reconcile_interval`: a runner that cannot be reached or does not answer in time
        is left for the next pass and holds up nobody else."""
        slots = asyncio.Semaphore(RECONCILE_CONCURRENCY)

        async def check(user: User) -> None:
            async with slots:
                try:
                    await self._reconcile_user(user)
                except Exception:
                    log.exception("reconcile: checking the sessions of %s failed", user.username)

        users = await asyncio.to_thread(self._users_with_accounts)
        await asyncio.gather(*(check(user) for user in users))

    async def _reconcile_user(self, user: User) -> None:
        # Rows are read before the user plane is asked, and each change applies only if
        # the row is still as read: a stop, start or failure that lands meanwhile wins
        # over this pass's older view.
        rows = await asyncio.to_thread(self.list_for, user)
        limit = self._backend.reconcile_interval
        try:
            userplane = self._userplane_for(user)
            async with asyncio.timeout(limit):
                listed = await userplane.list_sessions()
        except UserPlaneError as exc:
            log.warning("reconcile: runner of %s unavailable: %s", user.username, exc.message)
            return
        except TimeoutError:
            log.warning("reconcile: runner of %s did not answer within %gs", user.username, limit)
            return
        running = {r.id: r for r in listed if r.state is RuntimeState.RUNNING}
        for row in rows:
            if row.id in self._starting:
                continue  # its start decides
            runtime = running.get(row.id)
            if runtime is not None and row.status is not SessionStatus.RUNNING:
                await self._adopt(user, row, userplane, runtime)
            elif runtime is not None and row.sandbox != runtime.sandbox:
                # Running since before its report was kept here (or its runner's changed).
                await self._transition(
                    row.id, row.status, row.error, expected=row.status, sandbox=runtime.sandbox
                )
            elif runtime is None and row.status in ACTIVE:
                await self._forget(row.id)
                lost = "not running after a restart"
                await self._transition(row.id, SessionStatus.STOPPED, lost, expected=row.status)
        # Unknown ids are checked again now: a session created while the user plane was
        # answering is no orphan.
        unknown = running.keys() - {row.id for row in rows} - self._starting.keys()
        if unknown:
            unknown -= await asyncio.to_thread(self._owned_ids, user.id, unknown)
        for orphan in unknown:
            log.warning("reconcile: stopping session %s unknown to the database", orphan)
            with contextlib.suppress(UserPlaneError, TimeoutError):
                async with asyncio.timeout(limit):
                    await userplane.stop_session(orphan)

    async def _adopt(
        self, user: User, row: Session, userplane: UserPlane, runtime: SessionRuntime
    ) -> None:
        """Its user plane runs a session whose row says otherwise: it is running. The route
        is cached first, as after a start, and dropped again if the row changed meanwhile."""
        route = self._cache_route(user, row.id, userplane, runtime)
        if await self._transition(
            row.id, SessionStatus.RUNNING, expected=row.status, sandbox=runtime.sandbox
        ):
            return
        cached = self._routes.get(row.id)
        if route is not None and cached is not None and cached[1] is route:
            del self._routes[row.id]

    def _users_with_accounts(self) -> list[User]:
        with self._db() as db:
            return list(db.scalars(select(User).where(User.linux_user.is_not(None))))

    def _owned_ids(self, user_id: str, ids: Iterable[str]) -> set[str]:
        with self._db() as db:
            return set(
                db.scalars(
                    select(Session.id).where(Session.user_id == user_id, Session.id.in_(ids))
                )
            )

    def _mark_orphaned(self, reason: str) -> list[str]:
        """Sessions that stop with the control plane: rows that still say
        starting/running/stopping after a restart or at shutdown are stopped. Returns the
        ids of those that were running when the server stopped (these, and those stopped
        with the server), oldest first: what a restore starts again."""
        with self._db.begin() as db:
            for row in db.scalars(select(Session).where(Session.status.in_(ACTIVE))):
                row.status = SessionStatus.STOPPED
                row.error = reason
                row.updated_at = utcnow()
            stopped_by_us = Session.error.in_((STOPPED_WITH_SERVER, SERVER_RESTARTED))
            return list(
                db.scalars(
                    select(Session.id)
                    .where(Session.status == SessionStatus.STOPPED, stopped_by_us)
                    .order_by(Session.created_at)
                )
            )

    async def stop_all_for(self, user: User, reason: str) -> int:
        """Stop every active session of `user` through the ordinary stop path (a disabled
        account keeps nothing running); returns how many stopped. One that cannot be
        stopped now (runner unreachable) is logged and left for the next call."""

        def active() -> list[str]:
            with self._db() as db:
                return list(
                    db.scalars(
                        select(Session.id).where(
                            Session.user_id == user.id, Session.status.in_(ACTIVE)
                        )
                    )
                )

        stopped = 0
        for session_id in await asyncio.to_thread(active):
            try:
                await self.stop(user, session_id, reason)
            except OqtoError as exc:
                log.warning(
                    "could not stop session %s of %s: %s", session_id, user.username, exc.message
                )
                continue
            stopped += 1
        return stopped
