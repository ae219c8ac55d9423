"""Single-user restore across a real restart: the server is stopped with SIGTERM (its
sessions stop with it) and started again over the same database."""

from __future__ import annotations

from pathlib import Path

from tests.support.procs import tagged_pids
from tests.support.server import OqtoServer


def stop_cleanly(srv: OqtoServer) -> None:
    assert srv.stop() == 0, srv.log()[-4000:]
    assert tagged_pids(under=srv.root) == {}, "session processes outlived the server"


def test_running_sessions_come_back_and_stopped_ones_stay_stopped(
    tmp_path: Path, opencode_json: Path
) -> None:
    srv = OqtoServer(tmp_path / "srv", opencode_config=opencode_json).start()
    try:
        with srv.client(srv.login()) as client:
            kept = client.post("/api/sessions", json={"workspace": "kept"}).json()["id"]
            parked = client.post("/api/sessions", json={"workspace": "parked"}).json()["id"]
            srv.wait_status(client, kept, "running")
            srv.wait_status(client, parked, "running")
            assert client.post(f"/api/sessions/{parked}/stop").json()["status"] == "stopped"
            assert client.get(f"/api/sessions/{kept}/files/tree").status_code == 200
            used = client.get(f"/api/sessions/{kept}").json()["last_active_at"]
            assert used is not None
            before = client.get(f"/api/sessions/{kept}").json()
    finally:
        stop_cleanly(srv)

    srv.start()
    try:
        with srv.client(srv.login()) as client:
            restored = srv.wait_status(client, kept, "running")
            assert restored["error"] is None
            # Its last use outlived the restart (written at shutdown, not per request).
            assert restored["last_active_at"] == used
            # A new run: the old one's processes are gone, these answer.
            assert client.get(f"/api/sessions/{kept}/files/tree").status_code == 200
            assert restored["updated_at"] != before["updated_at"]
            left = client.get(f"/api/sessions/{parked}").json()
            assert left["status"] == "stopped" and left["error"] == "stopped by its owner"
        assert "restoring session" in srv.log()
    finally:
        stop_cleanly(srv)

    # Turned off: nothing is started again, and it says why it is stopped.
    srv.env["OQTO_SESSIONS__RESTORE_ON_START"] = "false"
    srv.start()
    try:
        with srv.client(srv.login()) as client:
            body = client.get(f"/api/sessions/{kept}").json()
            assert body["status"] == "stopped", body
            assert body["error"] == "stopped with the server"
            assert client.get(f"/api/sessions/{parked}").json()["status"] == "stopped"
    finally:
        stop_cleanly(srv)
