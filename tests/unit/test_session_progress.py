"""Start progress and last activity, against fake user planes: what a (hostile) runner may
report about a start, and how often the last activity reaches the database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from tests.unit.fake_userplanes import GatedUserPlane
from tests.unit.session_world import World, eventually, run

from oqto.control.api.schemas import SessionOut
from oqto.control.sessions import checked_ready_after
from oqto.db.models import SessionStatus
from oqto.protocol.runner_methods import EVENT_SESSION_STATE, parse_event
from oqto.protocol.runner_schema import EventMessage, ProtocolError
from oqto.protocol.sessions import (
    RuntimeState,
    ServiceName,
    ServicePhase,
    ServiceProgress,
    SessionEvent,
)


def step(session_id: str, service: str, phase: str, ready_after: float | None = None) -> Any:
    return SessionEvent(
        session_id=session_id,
        state=RuntimeState.STARTING,
        progress=ServiceProgress(
            service=ServiceName(service), phase=ServicePhase(phase), ready_after=ready_after
        ),
    )


def phases(out: SessionOut) -> dict[str, tuple[str, float | None]]:
    assert out.progress is not None
    return {p.service.value: (p.phase.value, p.ready_after) for p in out.progress}


def test_progress_is_shown_per_service_while_starting(tmp_path: Path) -> None:
    async def scenario() -> None:
        plane = GatedUserPlane()
        world = World(tmp_path, plane)
        row = await world.service.create(world.alice, "slow")
        await plane.entered.wait()
        out = SessionOut.of(world.row(row.id), world.service)
        assert phases(out) == {
            "agent": ("waiting", None),
            "files": ("waiting", None),
            "terminal": ("waiting", None),
        }
        before = len(world.changes)
        await world.service.on_userplane_event(world.alice.id, step(row.id, "files", "started"))
        await world.service.on_userplane_event(world.alice.id, step(row.id, "files", "ready", 0.25))
        # A repeat or a step back changes nothing and announces nothing.
        await world.service.on_userplane_event(world.alice.id, step(row.id, "files", "started"))
        await world.service.on_userplane_event(world.alice.id, step(row.id, "files", "ready", 0.5))
        assert world.changes[before:] == [(row.id, SessionStatus.STARTING)] * 2
        out = SessionOut.of(world.row(row.id), world.service)
        assert phases(out)["files"] == ("ready", 0.25)
        assert phases(out)["agent"] == ("waiting", None)
        plane.release.set()
        await world.settle()
        running = SessionOut.of(world.row(row.id), world.service)
        assert running.status is SessionStatus.RUNNING and running.progress is None
        # Once running, a late report is no start's: nothing changes.
        await world.service.on_userplane_event(world.alice.id, step(row.id, "agent", "failed"))
        assert SessionOut.of(world.row(row.id), world.service).progress is None

    run(scenario)


def test_progress_from_the_wrong_user_plane_or_for_the_wrong_session_is_ignored(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        plane = GatedUserPlane()
        world = World(tmp_path, plane)
        row = await world.service.create(world.alice, "target")
        await plane.entered.wait()
        before = len(world.changes)
        # Bob's runner names Alice's starting session.
        await world.service.on_userplane_event(world.bob.id, step(row.id, "agent", "failed"))
        # Alice's runner names sessions that are not starting here: unknown, huge ids.
        for other in ("0" * 32, "x" * 100_000):
            await world.service.on_userplane_event(world.alice.id, step(other, "agent", "ready", 1))
        # A starting event without progress, with text: ignored (and not kept).
        chatty = SessionEvent(session_id=row.id, state=RuntimeState.STARTING, error="y" * 10_000)
        await world.service.on_userplane_event(world.alice.id, chatty)
        assert world.changes[before:] == []
        out = SessionOut.of(world.row(row.id), world.service)
        assert {phase for phase, _ in phases(out).values()} == {"waiting"}
        assert world.row(row.id).error is None
        assert set(world.service._progress) == {row.id}
        plane.release.set()
        await world.settle()

    run(scenario)


def test_a_failed_start_keeps_which_service_failed(tmp_path: Path) -> None:
    async def scenario() -> None:
        plane = GatedUserPlane()
        world = World(tmp_path, plane)
        row = await world.service.create(world.alice, "broken")
        await plane.entered.wait()
        await world.service.on_userplane_event(world.alice.id, step(row.id, "terminal", "started"))
        await world.service.on_userplane_event(world.alice.id, step(row.id, "terminal", "failed"))
        await world.service.stop(world.alice, row.id)
        # Stopped: no start to show.
        assert SessionOut.of(world.row(row.id), world.service).progress is None

    run(scenario)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        # A service that does not exist.
        (
            {"progress": {"service": "shell", "phase": "ready", "ready_after": 1}},
            "progress.service",
        ),
        # Text where none may be: the progress has no free-text field.
        ({"progress": {"service": "agent", "phase": "ready", "note": "z" * 500_000}}, "note"),
        ({"progress": {"service": "agent", "phase": "z" * 500_000}}, "progress.phase"),
        # Numbers no start takes.
        ({"progress": {"service": "agent", "phase": "ready", "ready_after": -1}}, "ready_after"),
        ({"progress": {"service": "agent", "phase": "ready", "ready_after": 1e308}}, "ready_after"),
        ({"progress": {"service": "agent", "phase": "ready", "ready_after": "NaN"}}, "ready_after"),
    ],
)
def test_a_hostile_progress_report_is_refused_at_the_protocol(
    data: dict[str, Any], problem: str
) -> None:
    message = EventMessage(
        event=EVENT_SESSION_STATE, data={"session_id": "a" * 32, "state": "starting", **data}
    )
    with pytest.raises(ProtocolError) as refused:
        parse_event(message)
    assert problem in refused.value.message
    assert len(refused.value.message) < 1000  # the refusal does not repeat the text


def test_reported_start_up_times_are_bounded() -> None:
    reported = {
        "agent": 3.2,
        "files": float("inf"),
        "terminal": -1.0,
        "x" * 10_000: 1.0,
        "shell": 2.0,
    }
    assert checked_ready_after(reported) == {"agent": 3.2}


def test_last_activity_is_written_at_most_once_per_flush(tmp_path: Path) -> None:
    async def scenario() -> None:
        world = World(tmp_path, reconcile_interval=None)
        service = world.service
        row = await service.create(world.alice, "used")
        await world.settle()
        updated = world.row(row.id).updated_at
        writes: list[str] = []

        def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if statement.lstrip().upper().startswith("UPDATE"):
                writes.append(statement)

        engine = service._db.kw["bind"]
        event.listen(engine, "before_cursor_execute", count)
        for _ in range(1000):
            service.touch(row.id)  # a proxied request each: memory only
        assert writes == []
        shown = SessionOut.of(world.row(row.id), service).last_active_at
        assert shown is not None and world.row(row.id).last_active_at is None
        assert service.flush_activity() == 1 and len(writes) == 1
        assert service.flush_activity() == 0 and len(writes) == 1  # nothing new: no write
        stored = world.row(row.id)
        assert stored.last_active_at is not None
        assert abs(stored.last_active_at - shown) < dt.timedelta(milliseconds=1)
        assert stored.updated_at == updated  # not a change of state
        event.remove(engine, "before_cursor_execute", count)

        # Kept across a restart of the server: the row says it.
        await service.shutdown()
        fresh = world.restarted()
        assert SessionOut.of(world.row(row.id), fresh).last_active_at == stored.last_active_at

    run(scenario)


def test_the_last_activity_loop_flushes_and_shutdown_writes_the_rest(tmp_path: Path) -> None:
    async def scenario() -> None:
        world = World(tmp_path, reconcile_interval=None)
        world.service._flush_interval = 0.01
        await world.service.startup()
        row = await world.service.create(world.alice, "loop")
        await world.settle()
        world.service.touch(row.id)
        await eventually(lambda: world.row(row.id).last_active_at is not None)
        first = world.row(row.id).last_active_at
        world.service.touch(row.id)
        await world.service.shutdown()
        last = world.row(row.id).last_active_at
        assert first is not None and last is not None and last > first

    run(scenario)
