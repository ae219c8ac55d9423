"""Sessions outlive control-plane and runner restarts, and the two views are reconciled."""

from __future__ import annotations

import os
import signal
from typing import Any

from tests.multiuser.platform import MultiUserPlatform, PlatformUser, alive
from tests.multiuser.test_isolation import runtime_of, session_of
from tests.support.server import wait_for


def status(platform: MultiUserPlatform, user: PlatformUser, sid: str) -> str:
    with platform.client(user) as client:
        return str(client.get(f"/api/sessions/{sid}").json()["status"])


def files_ok(platform: MultiUserPlatform, user: PlatformUser, sid: str) -> bool:
    with platform.client(user) as client:
        return client.get(f"/api/sessions/{sid}/files/tree").status_code == 200


def test_control_plane_kill_and_restart_keeps_sessions(
    platform: MultiUserPlatform, alice: PlatformUser
) -> None:
    session: dict[str, Any] = session_of(platform, alice, "survive-cp")
    pids = [p["pid"] for p in runtime_of(alice, session["id"])["processes"]]
    platform.stop(signal.SIGKILL)
    assert all(alive(pid) for pid in pids)
    platform.start()
    assert status(platform, alice, session["id"]) == "running"
    assert files_ok(platform, alice, session["id"])
    with platform.client(alice) as client:
        assert client.get(f"/api/sessions/{session['id']}/agent/session").status_code == 200
    assert all(alive(pid) for pid in pids)


def test_runner_kill9_and_restart_readopts_sessions(
    platform: MultiUserPlatform, alice: PlatformUser
) -> None:
    session = session_of(platform, alice, "survive-runner")
    sid = session["id"]
    pids = [p["pid"] for p in runtime_of(alice, sid)["processes"]]
    runner = alice.runner
    assert runner is not None
    runner.send_signal(signal.SIGKILL)
    runner.wait()
    assert all(alive(pid) for pid in pids), "a runner crash must not take sessions down"
    platform.restart_runner(alice)
    assert f"adopted=\"['{sid}']\"" in alice.log.read_text() or sid in alice.log.read_text()
    wait_for(lambda: files_ok(platform, alice, sid), 30, "proxy to the re-adopted session")
    assert status(platform, alice, sid) == "running"
    # The new runner really owns them: stopping through the API ends every process.
    with platform.client(alice) as client:
        assert client.post(f"/api/sessions/{sid}/stop").json()["status"] == "stopped"
    wait_for(lambda: not any(alive(pid) for pid in pids), 30, "session processes to stop")


def test_session_that_died_while_runner_was_down_is_reported_stopped(
    platform: MultiUserPlatform, alice: PlatformUser
) -> None:
    session = session_of(platform, alice, "dies-alone")
    sid = session["id"]
    processes = runtime_of(alice, sid)["processes"]
    runner = alice.runner
    assert runner is not None
    runner.send_signal(signal.SIGKILL)
    runner.wait()
    for process in processes:
        os.killpg(process["pid"], signal.SIGKILL)
    wait_for(lambda: not any(alive(p["pid"]) for p in processes), 30, "processes to die")
    platform.restart_runner(alice)
    wait_for(lambda: status(platform, alice, sid) == "stopped", 60, "the control plane to notice")
    with platform.client(alice) as client:
        proxied = client.get(f"/api/sessions/{sid}/files/tree")
        assert proxied.status_code == 409 and proxied.json()["error"] == "session_not_running"
        assert client.post(f"/api/sessions/{sid}/resume").status_code == 200
    wait_for(lambda: status(platform, alice, sid) == "running", 300, "the resumed session")
    assert files_ok(platform, alice, sid)


def test_unreachable_runner_is_a_clear_503(platform: MultiUserPlatform, bob: PlatformUser) -> None:
    running = session_of(platform, bob, "keeps-going")
    runner = bob.runner
    assert runner is not None
    runner.send_signal(signal.SIGTERM)
    runner.wait()
    try:
        with platform.client(bob) as client:
            stop = client.post(f"/api/sessions/{running['id']}/stop")
            assert stop.status_code == 503, stop.text
            assert stop.json()["error"] == "runner_unavailable"
            assert "runner" in stop.json()["message"]
            # Nothing was stopped, so the session is not shown as stopping or stopped.
            assert client.get(f"/api/sessions/{running['id']}").json()["status"] == "running"
            created = client.post("/api/sessions", json={"workspace": "nowhere"})
            sid = created.json()["id"]
            failed = wait_for(
                lambda: (
                    (b := client.get(f"/api/sessions/{sid}").json())["status"] == "failed" and b
                ),
                60,
                "the start to fail",
            )
            assert "runner" in failed["error"]
            assert client.delete(f"/api/sessions/{sid}").status_code == 204
    finally:
        platform.restart_runner(bob)
    with platform.client(bob) as client:
        stopped = client.post(f"/api/sessions/{running['id']}/stop")
        assert stopped.status_code == 200 and stopped.json()["status"] == "stopped"
