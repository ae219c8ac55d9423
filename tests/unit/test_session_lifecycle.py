"""SessionService's lifecycle against fake user planes: start-up after a restart (sessions
that died with the control plane, sessions that outlived it), the reconcile loop (one
bounded, concurrent pass; a hung or lying runner), shutdown, and changes announced on the
event loop with the route already cached."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from tests.unit.fake_userplanes import (
    FakeUserPlane,
    GatedUserPlane,
    HungUserPlane,
    runtime,
)
from tests.unit.session_world import World, eventually, run

from oqto.control.sessions import RECONCILE_CONCURRENCY
from oqto.db.models import SessionStatus
from oqto.protocol.errors import ErrorCode, OqtoError
from oqto.protocol.sessions import SandboxReport, SessionRuntime


def test_changes_are_announced_on_the_event_loop_in_order(tmp_path: Path) -> None:
    async def scenario() -> None:
        world = World(tmp_path)
        row = await world.service.create(world.alice, "w")
        await world.settle()
        await world.service.stop(world.alice, row.id)
        await world.service.delete(world.alice, row.id)
        # World's listener fails off the event loop, so reaching here proves where it ran.
        assert world.changes == [
            (row.id, SessionStatus.STARTING),
            (row.id, SessionStatus.RUNNING),
            (row.id, SessionStatus.STOPPING),
            (row.id, SessionStatus.STOPPED),
            (row.id, None),
        ]

    run(scenario)


def test_running_is_announced_with_the_route_already_cached(tmp_path: Path) -> None:
    """A browser that proxies the moment it hears "running" costs no user-plane call,
    whether a start or a reconcile made it running."""

    async def scenario() -> None:
        world = World(tmp_path)
        proxied: list[asyncio.Task[object]] = []

        def proxy_at_once(_user_id: str, session_id: str, row: object) -> None:
            status = getattr(row, "status", None)
            if status is SessionStatus.RUNNING:
                proxied.append(asyncio.create_task(world.service.route(world.alice, session_id)))

        world.service.on_change.append(proxy_at_once)
        started = await world.service.create(world.alice, "started")
        await world.settle()
        # The database says stopped, yet its user plane runs it (a start that finished
        # while the control plane was down): the reconcile makes it running.
        adopted = await world.service.create(world.alice, "adopted")
        await world.settle()
        world.force(adopted.id, SessionStatus.STOPPED)
        world.service = world.restarted()
        world.service.on_change.append(proxy_at_once)
        await world.service.reconcile()
        assert world.status(adopted.id) is SessionStatus.RUNNING
        await asyncio.gather(*proxied)
        # Started: one announcement; adopted: one when started, one when reconciled.
        assert len(proxied) == 3 and world.plane.asked == []
        assert started.id in world.plane.running

    run(scenario)


def test_single_user_restart_marks_what_died_with_the_server_stopped(tmp_path: Path) -> None:
    async def scenario() -> None:
        world = World(tmp_path, reconcile_interval=None)
        await world.service.startup()
        kept = await world.service.create(world.alice, "kept")
        slow = GatedUserPlane()
        world.backend.planes["bob"] = slow
        starting = await world.service.create(world.bob, "slow")
        await slow.entered.wait()
        await eventually(lambda: world.status(kept.id) is SessionStatus.RUNNING)
        await world.service.shutdown()
        assert world.backend.closed and slow.cancelled == [starting.id]
        for session_id in (kept.id, starting.id):
            assert world.row(session_id).status is SessionStatus.STOPPED
            assert world.row(session_id).error == "stopped with the server"
        # A crash leaves rows active; the next start-up marks them.
        world.force(kept.id, SessionStatus.RUNNING)
        world.service = world.restarted()
        await world.service.startup()
        assert world.row(kept.id).status is SessionStatus.STOPPED
        assert world.row(kept.id).error == "the server restarted"
        await world.service.shutdown()

    run(scenario)


def test_a_control_plane_restart_reconciles_what_the_runners_kept(tmp_path: Path) -> None:
    async def scenario() -> None:
        world = World(tmp_path)
        ids = {}
        for name in ("survived", "lost", "was-starting", "starting-lost"):
            ids[name] = (await world.service.create(world.alice, name)).id
        await world.settle()
        # The control plane dies: a start was in flight for two of them (their rows still
        # say starting); the runner kept one of those and lost one session of each kind.
        world.force(ids["was-starting"], SessionStatus.STARTING)
        world.force(ids["starting-lost"], SessionStatus.STARTING)
        world.plane.running.pop(ids["lost"])
        world.plane.running.pop(ids["starting-lost"])
        world.service = world.restarted()
        await world.service.startup()
        await eventually(lambda: world.status(ids["lost"]) is SessionStatus.STOPPED)
        await eventually(lambda: world.status(ids["starting-lost"]) is SessionStatus.STOPPED)
        await eventually(lambda: world.status(ids["was-starting"]) is SessionStatus.RUNNING)
        assert world.status(ids["survived"]) is SessionStatus.RUNNING
        assert world.row(ids["lost"]).error == "not running after a restart"
        await world.service.shutdown()
        # Shutting down lets go of the runners; what they run keeps running.
        assert world.backend.closed
        assert set(world.plane.running) == {ids["survived"], ids["was-starting"]}

    run(scenario)


def test_a_hung_runner_holds_up_neither_the_pass_nor_other_users(tmp_path: Path) -> None:
    async def scenario() -> None:
        hung = HungUserPlane()
        world = World(tmp_path, hung, reconcile_interval=0.05)
        mine = await world.service.create(world.alice, "mine")
        theirs = await world.service.create(world.bob, "theirs")
        await world.settle()
        bob_plane = world.backend.planes["bob"]
        bob_plane.running.pop(theirs.id)
        bob_plane.running["stray"] = runtime("stray")
        began = time.monotonic()
        await world.service.reconcile()
        # Each runner call may take one interval; the pass waits no longer than that.
        assert time.monotonic() - began < 2.0
        assert world.status(theirs.id) is SessionStatus.STOPPED
        assert bob_plane.stopped == ["stray"]
        assert world.status(mine.id) is SessionStatus.RUNNING  # left for the next pass

    run(scenario)


def test_a_pass_asks_users_concurrently_but_a_bounded_number_at_once(tmp_path: Path) -> None:
    in_flight = [0, 0]  # now, most ever

    async def scenario() -> None:
        # Every runner holds its answer until as many are asked as may be at once.
        gate = asyncio.Event()

        class Holding(FakeUserPlane):
            async def list_sessions(self) -> list[SessionRuntime]:
                in_flight[0] += 1
                in_flight[1] = max(in_flight)
                try:
                    await gate.wait()
                finally:
                    in_flight[0] -= 1
                return []

        world = World(tmp_path, reconcile_interval=30)
        for i in range(2 * RECONCILE_CONCURRENCY):
            world.backend.planes[f"u{i}"] = Holding()
            world.user(f"u{i}")
        passing = asyncio.create_task(world.service.reconcile())
        await eventually(lambda: in_flight[0] == RECONCILE_CONCURRENCY)
        gate.set()
        await passing
        assert in_flight == [0, RECONCILE_CONCURRENCY]

    run(scenario)


def test_a_runner_that_lies_about_another_users_session_is_ignored(tmp_path: Path) -> None:
    async def scenario() -> None:
        world = World(tmp_path)
        confined = SandboxReport(enabled=True, profile="strict", network="none")
        world.plane.sandbox = confined
        row = await world.service.create(world.alice, "alices")
        await world.settle()
        await world.service.stop(world.alice, row.id)
        # Bob's runner claims to run Alice's (stopped) session, unsandboxed.
        bob_plane = world.backend.planes["bob"] = FakeUserPlane()
        bob_plane.running[row.id] = runtime(row.id, sandbox=SandboxReport(enabled=False))
        await world.service.reconcile()
        assert world.status(row.id) is SessionStatus.STOPPED
        assert world.row(row.id).sandbox == confined
        with pytest.raises(OqtoError) as caught:
            await world.service.route(world.alice, row.id)
        assert caught.value.code is ErrorCode.SESSION_NOT_RUNNING
        # To Bob's runner it is a session Bob does not have: stopped there, only there.
        assert bob_plane.stopped == [row.id] and world.plane.stopped == [row.id]

    run(scenario)


def test_a_session_created_while_the_runner_answers_is_no_orphan(tmp_path: Path) -> None:
    class SlowLister(FakeUserPlane):
        def __init__(self) -> None:
            super().__init__()
            self.listing = asyncio.Event()
            self.answer = asyncio.Event()

        async def list_sessions(self) -> list[SessionRuntime]:
            self.listing.set()
            await self.answer.wait()
            return await super().list_sessions()

    async def scenario() -> None:
        plane = SlowLister()
        world = World(tmp_path, plane, reconcile_interval=30)
        passing = asyncio.create_task(world.service.reconcile())
        await plane.listing.wait()
        row = await world.service.create(world.alice, "new")
        await world.settle()
        plane.answer.set()
        await passing
        assert plane.stopped == [] and world.status(row.id) is SessionStatus.RUNNING

    run(scenario)


def test_the_loop_outlives_a_failing_pass_and_keeps_passing(tmp_path: Path) -> None:
    class Flaky(FakeUserPlane):
        calls = 0

        async def list_sessions(self) -> list[SessionRuntime]:
            self.calls += 1
            if self.calls == 1:
                raise RuntimeError("bug in the user plane")
            return await super().list_sessions()

    async def scenario() -> None:
        plane = Flaky()
        world = World(tmp_path, plane, reconcile_interval=0.01)
        row = await world.service.create(world.alice, "w")
        await world.settle()
        plane.running.clear()
        await world.service.startup()
        await eventually(lambda: world.status(row.id) is SessionStatus.STOPPED)
        assert plane.calls >= 2
        await world.service.shutdown()
        # The loop is gone with it: nothing of the service is left running.
        assert asyncio.all_tasks() == {asyncio.current_task()}

    run(scenario)
