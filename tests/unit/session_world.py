"""A `SessionService` over a real (SQLite) database and fake user planes, for tests that
drive the session lifecycle in milliseconds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from tests.unit.fake_userplanes import FakeBackend, FakeUserPlane

from oqto.control.sessions import SessionService
from oqto.db.engine import make_engine, make_sessionmaker, migrate, sqlite_url
from oqto.db.models import Role, Session, SessionStatus, User


class World:
    """Users alice and bob, each with their own user plane (`plane` is alice's), and
    every change the service announced, as (session id, status or None when deleted)."""

    def __init__(
        self,
        tmp_path: Path,
        plane: FakeUserPlane | None = None,
        cap: int = 20,
        reconcile_interval: float | None = 0.05,
    ) -> None:
        engine = make_engine(sqlite_url(tmp_path / "oqto.db"))
        migrate(engine)
        self.db = make_sessionmaker(engine)
        self.backend = FakeBackend(reconcile_interval)
        self.plane = self.backend.planes.setdefault("alice", plane or FakeUserPlane())
        self.cap = cap
        self.changes: list[tuple[str, SessionStatus | None]] = []
        self.service = self.restarted()
        self.alice = self.user("alice")
        self.bob = self.user("bob")

    def restarted(self) -> SessionService:
        """A new service over the same database and user planes, as after a control-plane
        restart."""
        service = SessionService(self.db, self.backend, max_running_per_user=self.cap)

        def record(_user_id: str, session_id: str, row: Session | None) -> None:
            asyncio.get_running_loop()  # raises anywhere but on the event loop
            self.changes.append((session_id, row.status if row else None))

        service.on_change.append(record)
        return service

    def user(self, name: str) -> User:
        with self.db.begin() as db:
            user = User(username=name, password_hash="x", role=Role.USER, linux_user=name)
            db.add(user)
            db.flush()
            return user

    def row(self, session_id: str) -> Session:
        with self.db() as db:
            row = db.get(Session, session_id)
            assert row is not None
            return row

    def status(self, session_id: str) -> SessionStatus:
        return self.row(session_id).status

    def force(self, session_id: str, status: SessionStatus) -> None:
        """Set a row behind the service's back (as a previous run left it)."""
        with self.db.begin() as db:
            row = db.get(Session, session_id)
            assert row is not None
            row.status = status

    async def settle(self) -> None:
        """Wait for every start task in flight to finish."""
        await asyncio.gather(*list(self.service._starting.values()), return_exceptions=True)


async def eventually(check: Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        await asyncio.sleep(0.001)


def run(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    async def bounded() -> None:
        async with asyncio.timeout(30):
            await scenario()

    asyncio.run(bounded())
