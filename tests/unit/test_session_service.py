"""The control plane's session state machine, reconcile rules and events against fake
user planes: the races that take minutes end to end take milliseconds here."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.unit.fake_userplanes import (
    FakeUserPlane,
    GatedUserPlane,
    UnreachableUserPlane,
    runtime,
)
from tests.unit.session_world import World, run

from oqto.control.sessions import ACTIVE
from oqto.db.models import Session, SessionStatus
from oqto.protocol.errors import ErrorCode, OqtoError, http_status
from oqto.protocol.sessions import RuntimeState, SandboxReport, SessionEvent

CONFINED = SandboxReport(
    enabled=True, profile="development", network="allowlist", pid_namespace=True, tasks_max=512
)


def test_create_runs_and_caches_a_route(tmp_path: Path) -> None:
    async def scenario() -> None:
        world = World(tmp_path, FakeUserPlane())
        row = await world.service.create(world.alice, "proj")
        assert row.status is SessionStatus.STARTING
        await world.settle()
        assert world.status(row.id) is SessionStatus.RUNNING
        route = await world.service.route(world.alice, row.id)
        assert route.agent_auth.password == "pw"
        with pytest.raises(OqtoError) as caught:
            await world.service.route(world.bob, row.id)
        assert caught.value.code is ErrorCode.NOT_FOUND

    run(scenario)


def test_a_stop_during_a_slow_start_wins(tmp_path: Path) -> None:
    async def scenario() -> None:
        plane = GatedUserPlane()
        world = World(tmp_path, plane)
        row = await world.service.create(world.alice, "slow")
        await plane.entered.wait()
        stopped = await world.service.stop(world.alice, row.id)
        assert stopped.status is SessionStatus.STOPPED
        assert plane.cancelled == [row.id] and plane.stopped == [row.id]
        plane.release.set()
        await world.settle()
        # Nothing brings it back: not the start finishing, not a reconcile.
        await world.service.reconcile()
        assert world.status(row.id) is SessionStatus.STOPPED
        assert plane.running == {}

    run(scenario)


def test_a_dying_session_fails_and_loses_its_route(tmp_path: Path) -> None:
    async def scenario() -> None:
        plane = FakeUserPlane()
        world = World(tmp_path, plane)
        row = await world.service.create(world.alice, "dies")
        await world.settle()
        await world.service.route(world.alice, row.id)
        await plane.die(row.id)
        assert world.row(row.id).status is SessionStatus.FAILED
        assert world.row(row.id).error == "agent exited"
        with pytest.raises(OqtoError):
            await world.service.route(world.alice, row.id)

    run(scenario)


def test_events_from_another_users_user_plane_are_ignored(tmp_path: Path) -> None:
    async def scenario() -> None:
        world = World(tmp_path, FakeUserPlane())
        row = await world.service.create(world.alice, "target")
        await world.settle()
        spoof = SessionEvent(session_id=row.id, state=RuntimeState.FAILED, error="spoofed")
        await world.service.on_userplane_event(world.bob.id, spoof)
        assert world.status(row.id) is SessionStatus.RUNNING
        await world.service.route(world.alice, row.id)  # still routed
        await world.service.on_userplane_event(world.alice.id, spoof)
        assert world.status(row.id) is SessionStatus.FAILED

    run(scenario)


def test_an_answer_about_another_session_gives_no_route(tmp_path: Path) -> None:
    class Liar(FakeUserPlane):
        async def get_session(self, session_id: str) -> Any:
            return runtime("someone-elses")

    async def scenario() -> None:
        world = World(tmp_path, Liar())
        row = await world.service.create(world.alice, "lied-about")
        await world.settle()
        world.service._routes.clear()  # as after a control-plane restart
        with pytest.raises(OqtoError) as caught:
            await world.service.route(world.alice, row.id)
        assert caught.value.code == "session_not_running"

    run(scenario)


def test_reconcile_rules(tmp_path: Path) -> None:
    async def scenario() -> None:
        plane = FakeUserPlane()
        world = World(tmp_path, plane)
        alive = await world.service.create(world.alice, "alive")
        gone = await world.service.create(world.alice, "gone")
        await world.settle()
        # The runner lost one; it runs one the database has never heard of; and the
        # database says stopped for one that runs.
        plane.running.pop(gone.id)
        plane.running["stranger"] = runtime("stranger")
        await world.service.stop(world.alice, alive.id)
        plane.running[alive.id] = runtime(alive.id)
        await world.service.reconcile()
        assert world.status(alive.id) is SessionStatus.RUNNING
        assert world.row(gone.id).status is SessionStatus.STOPPED
        assert world.row(gone.id).error == "not running after a restart"
        assert "stranger" in plane.stopped

    run(scenario)


def test_a_session_shows_how_its_latest_run_is_confined(tmp_path: Path) -> None:
    async def scenario() -> None:
        plane = GatedUserPlane()
        plane.sandbox = CONFINED
        world = World(tmp_path, plane)
        row = await world.service.create(world.alice, "boxed")
        assert world.row(row.id).sandbox is None  # nothing runs yet
        plane.release.set()
        await world.settle()
        assert world.row(row.id).sandbox == CONFINED
        # Kept once stopped (what the run's limits were), dropped when it starts again:
        # a start the sandbox refuses must not show the previous run's report.
        await world.service.stop(world.alice, row.id)
        assert world.row(row.id).sandbox == CONFINED
        plane.release.clear()
        plane.sandbox = SandboxReport(enabled=False)
        await world.service.resume(world.alice, row.id)
        assert world.row(row.id).sandbox is None
        plane.release.set()
        await world.settle()
        assert world.row(row.id).sandbox == SandboxReport(enabled=False)

    run(scenario)


def test_reconcile_fills_in_the_report_of_a_session_running_without_one(tmp_path: Path) -> None:
    async def scenario() -> None:
        plane = FakeUserPlane()
        world = World(tmp_path, plane)
        row = await world.service.create(world.alice, "older")
        await world.settle()
        assert world.row(row.id).sandbox is None  # as a row from before reports were kept
        plane.running[row.id] = runtime(row.id, sandbox=CONFINED)
        await world.service.reconcile()
        assert world.row(row.id).sandbox == CONFINED
        assert world.changes[-1] == (row.id, SessionStatus.RUNNING)  # browsers hear of it

    run(scenario)


def test_reconcile_leaves_an_unreachable_runners_sessions_alone(tmp_path: Path) -> None:
    async def scenario() -> None:
        plane = UnreachableUserPlane()
        plane.reachable = True
        world = World(tmp_path, plane)
        row = await world.service.create(world.alice, "x")
        await world.settle()
        plane.reachable = False
        await world.service.reconcile()
        assert world.status(row.id) is SessionStatus.RUNNING
        with pytest.raises(OqtoError) as caught:
            await world.service.stop(world.alice, row.id)
        assert http_status(caught.value.code) == 503
        assert world.status(row.id) is SessionStatus.RUNNING  # nothing known to have stopped

    run(scenario)


def test_the_session_cap_holds_under_concurrent_creates(tmp_path: Path) -> None:
    async def scenario() -> None:
        world = World(tmp_path, GatedUserPlane(), cap=3)
        results = await asyncio.gather(
            *(world.service.create(world.alice, f"w{i}") for i in range(12)),
            return_exceptions=True,
        )
        refused = [r for r in results if isinstance(r, OqtoError)]
        assert len(refused) == 9 and {r.code for r in refused} == {"too_many_sessions"}
        with world.db() as db:
            active = db.scalar(
                select(func.count()).select_from(Session).where(Session.status.in_(ACTIVE))
            )
        assert active == 3
        await world.service.shutdown()

    run(scenario)
