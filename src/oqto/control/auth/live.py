"""Live connections that must not outlive their sign-in.

A request is authenticated once, when it starts; an SSE stream, a proxied agent stream or
a terminal WebSocket then runs for hours. Each such connection registers here with the
principal it was opened with and a callback that ends it. The callback runs when

- its token is revoked (logout, API token revoked, password changed) or expires,
- its user is disabled or deleted, or
- its user's role is no longer the role it was opened with.

The API routes that revoke or disable call `end_token` / `end_user` directly, so their
connections end at once, and the data plane's `TokenCache` forgets those sign-ins at the
same moment. `run` (started with the app) re-validates every tracked and every cached
token in one query every `interval` seconds, which catches changes made by another
process (`oqtoctl user disable`, an admin editing the database) and plain expiry, and
stops the sessions of disabled users that still have some running.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import exists, select
from sqlalchemy.orm import Session as DBSession
from sqlalchemy.orm import sessionmaker

from oqto.control.auth.cache import TokenCache
from oqto.control.sessions import ACTIVE, STOPPED_USER_DISABLED, SessionService
from oqto.db.models import AuthToken, Role, Session, User, utcnow

if TYPE_CHECKING:
    # deps imports the context, which holds this registry.
    from oqto.control.auth.deps import Principal

log = logging.getLogger(__name__)

CHECK_INTERVAL_SECONDS = 2.0
# A disabled user whose sessions could not be stopped (runner unreachable) is retried this
# much later rather than on every round.
STOP_RETRY_SECONDS = 30.0


@dataclass(eq=False)
class _Tracked:
    token_id: str
    user_id: str
    role: Role
    on_end: Callable[[], None]
    loop: asyncio.AbstractEventLoop | None
    ended: bool = False


@dataclass(frozen=True)
class _TokenState:
    revoked_at: dt.datetime | None
    expires_at: dt.datetime | None
    disabled: bool
    role: Role


class LiveConnections:
    def __init__(
        self,
        db: sessionmaker[DBSession],
        sessions: SessionService,
        tokens: TokenCache,
        interval: float = CHECK_INTERVAL_SECONDS,
    ) -> None:
        self._db = db
        self._sessions = sessions
        self._tokens = tokens
        self.interval = interval
        self._lock = threading.Lock()
        self._tracked: set[_Tracked] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_retry_at: dict[str, float] = {}
        # Completed checks, so tests can wait for one instead of sleeping.
        self.rounds = 0

    # -- registration (any thread) ---------------------------------------------------------

    def track(self, principal: Principal, on_end: Callable[[], None]) -> Callable[[], None]:
        """Register a connection opened by `principal`; returns the function that
        unregisters it (call it when the connection closes by itself). `on_end` is called
        at most once, on the event loop's thread."""
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = self._loop
        entry = _Tracked(
            token_id=principal.token.id,
            user_id=principal.user.id,
            role=principal.user.role,
            on_end=on_end,
            loop=loop,
        )
        with self._lock:
            self._tracked.add(entry)

        def untrack() -> None:
            with self._lock:
                self._tracked.discard(entry)

        return untrack

    def end_token(self, token_id: str) -> None:
        """The token was revoked: end every connection opened with it."""
        self._tokens.drop_token(token_id)
        self._end_where(lambda e: e.token_id == token_id)

    def end_user(self, user_id: str) -> None:
        """The user was disabled, deleted, signed out everywhere or changed role."""
        self._tokens.drop_user(user_id)
        self._end_where(lambda e: e.user_id == user_id)

    def tracked_count(self) -> int:
        with self._lock:
            return len(self._tracked)

    def _end_where(self, matches: Callable[[_Tracked], bool]) -> None:
        with self._lock:
            chosen = [e for e in self._tracked if matches(e)]
        self._end(chosen)

    def _end(self, entries: Iterable[_Tracked]) -> None:
        for entry in entries:
            with self._lock:
                if entry.ended:
                    continue
                entry.ended = True
                self._tracked.discard(entry)
            loop = entry.loop or self._loop
            if loop is None:
                # Nothing runs an event loop (a synchronous caller in a test): there is no
                # other thread to hand it to.
                self._fire(entry)
                continue
            # A closed loop means the connection's server is gone, and the connection too.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._fire, entry)

    @staticmethod
    def _fire(entry: _Tracked) -> None:
        try:
            entry.on_end()
        except Exception:
            log.exception("ending a live connection failed")

    # -- the periodic check (event loop) ---------------------------------------------------

    async def run(self) -> None:
        """Forever (cancelled at shutdown): re-check every `interval` seconds."""
        self._loop = asyncio.get_running_loop()
        with self._lock:
            for entry in self._tracked:
                entry.loop = entry.loop or self._loop
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check()
            except Exception:
                # A database hiccup must not end the checking for good.
                log.exception("checking live connections failed")

    async def check(self) -> None:
        """One round: end connections whose sign-in is no longer valid, and stop the
        sessions of disabled users."""
        with self._lock:
            snapshot = list(self._tracked)
        cached = self._tokens.roles()
        token_ids = {e.token_id for e in snapshot} | cached.keys()
        if token_ids:
            states = await asyncio.to_thread(self._token_states, token_ids)
            now = utcnow()
            # A sign-in never becomes valid again, so dropping on a read that is already a
            # little old cannot wrongly keep one.
            self._tokens.drop_tokens(
                t for t, role in cached.items() if not _valid(role, states.get(t), now)
            )
            self._end(e for e in snapshot if not _valid(e.role, states.get(e.token_id), now))
        for user in await asyncio.to_thread(self._disabled_with_sessions):
            if self._stop_retry_at.get(user.id, 0.0) > time.monotonic():
                continue
            log.info("stopping the sessions of disabled user %s", user.username)
            await self._sessions.stop_all_for(user, STOPPED_USER_DISABLED)
            # Stopped sessions drop out of the query; one left over is retried later.
            self._stop_retry_at[user.id] = time.monotonic() + STOP_RETRY_SECONDS
        self.rounds += 1

    def _token_states(self, token_ids: set[str]) -> dict[str, _TokenState]:
        with self._db() as db:
            rows = db.execute(
                select(
                    AuthToken.id,
                    AuthToken.revoked_at,
                    AuthToken.expires_at,
                    User.disabled,
                    User.role,
                )
                .join(User, User.id == AuthToken.user_id)
                .where(AuthToken.id.in_(token_ids))
            )
            return {
                token_id: _TokenState(revoked, expires, disabled, role)
                for token_id, revoked, expires, disabled, role in rows
            }

    def _disabled_with_sessions(self) -> list[User]:
        with self._db() as db:
            return list(
                db.scalars(
                    select(User).where(
                        User.disabled.is_(True),
                        exists().where(Session.user_id == User.id, Session.status.in_(ACTIVE)),
                    )
                )
            )


def _valid(role: Role, state: _TokenState | None, now: dt.datetime) -> bool:
    """Whether a sign-in made with `role` still stands. No row: the token or its whole
    user was deleted."""
    return (
        state is not None
        and state.revoked_at is None
        and (state.expires_at is None or state.expires_at > now)
        and not state.disabled
        and state.role is role
    )
