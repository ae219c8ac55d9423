"""Session lifecycle against the real services, and isolation between platform users."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.integration.test_auth_api import make_user
from tests.support.fake_llm import FakeLLM, Reply
from tests.support.procs import tagged_pids
from tests.support.server import OqtoServer, wait_for
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus


def session_pids(session_id: str) -> dict[int, str]:
    return {pid: cmd for pid, cmd in tagged_pids(f"OQTO_SESSION_ID={session_id}".encode()).items()}


def test_lifecycle_stop_resume_delete(server: OqtoServer, admin: httpx.Client) -> None:
    created = admin.post("/api/sessions", json={"workspace": "life/cycle"})
    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "starting" and body["workspace"] == "life/cycle"
    sid = body["id"]

    server.wait_status(admin, sid, "running")
    assert (server.workspaces / "admin" / "life" / "cycle").is_dir()
    pids = session_pids(sid)
    commands = " ".join(pids.values())
    assert "opencode" in commands and "ttyd" in commands and "oqto.files" in commands
    assert sid in [s["id"] for s in admin.get("/api/sessions").json()]

    stopped = admin.post(f"/api/sessions/{sid}/stop")
    assert stopped.status_code == 200 and stopped.json()["status"] == "stopped"
    assert session_pids(sid) == {}, "processes left after stop"
    proxied = admin.get(f"/api/sessions/{sid}/files/tree")
    assert proxied.status_code == 409 and proxied.json()["error"] == "session_not_running"
    assert "retry-after" not in proxied.headers

    resumed = admin.post(f"/api/sessions/{sid}/resume")
    assert resumed.json()["status"] in ("starting", "running")
    server.wait_status(admin, sid, "running")
    assert admin.get(f"/api/sessions/{sid}/files/tree").status_code == 200

    assert admin.delete(f"/api/sessions/{sid}").status_code == 204
    assert admin.get(f"/api/sessions/{sid}").status_code == 404
    assert session_pids(sid) == {}, "processes left after delete"
    assert (server.workspaces / "admin" / "life" / "cycle").is_dir(), "workspace files kept"


def test_several_sessions_at_once(server: OqtoServer, admin: httpx.Client) -> None:
    ids = [
        admin.post("/api/sessions", json={"workspace": f"multi-{i}"}).json()["id"] for i in range(2)
    ]
    for sid in ids:
        server.wait_status(admin, sid, "running")
    for i, sid in enumerate(ids):
        admin.put(
            f"/api/sessions/{sid}/files/file", params={"path": "who.txt"}, content=f"{i}".encode()
        )
    for i, sid in enumerate(ids):
        got = admin.get(f"/api/sessions/{sid}/files/file", params={"path": "who.txt"})
        assert got.content == f"{i}".encode()
        assert (server.workspaces / "admin" / f"multi-{i}" / "who.txt").read_text() == f"{i}"
    for sid in ids:
        assert admin.delete(f"/api/sessions/{sid}").status_code == 204
        assert session_pids(sid) == {}


def test_delete_while_starting_leaves_nothing(server: OqtoServer, admin: httpx.Client) -> None:
    sid = admin.post("/api/sessions", json={"workspace": "hasty"}).json()["id"]
    assert admin.delete(f"/api/sessions/{sid}").status_code == 204
    wait_for(lambda: session_pids(sid) == {}, 30, "processes of a deleted session to go")


def test_other_user_cannot_touch_session(
    server: OqtoServer, admin: httpx.Client, running_session: dict[str, Any]
) -> None:
    name, password = make_user(server)
    sid = running_session["id"]
    with server.client(server.login(name, password)) as other:
        assert other.get("/api/sessions").json() == []
        for method, path in [
            ("GET", f"/api/sessions/{sid}"),
            ("POST", f"/api/sessions/{sid}/stop"),
            ("POST", f"/api/sessions/{sid}/resume"),
            ("DELETE", f"/api/sessions/{sid}"),
            ("GET", f"/api/sessions/{sid}/files/tree"),
            ("GET", f"/api/sessions/{sid}/files/file?path=x"),
            ("GET", f"/api/sessions/{sid}/agent/session"),
        ]:
            response = other.request(method, path)
            assert response.status_code == 404, (method, path, response.text)
        token = other.headers["Authorization"]

    async def terminal() -> None:
        url = server.url.replace("http", "ws") + f"/api/sessions/{sid}/terminal"
        with pytest.raises(InvalidStatus) as info:
            async with connect(url, additional_headers={"Authorization": token}):
                pass
        assert info.value.response.status_code == 404  # as for a missing session

    asyncio.run(terminal())
    assert admin.get(f"/api/sessions/{sid}").json()["status"] == "running"


def test_failed_start_reports_reason_and_log(tmp_path: Path, opencode_json: Path) -> None:
    fake = tmp_path / "bin" / "opencode"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'opencode: cannot start: simulated failure' >&2\nexit 3\n")
    fake.chmod(0o755)
    srv = OqtoServer(tmp_path / "srv", opencode_config=opencode_json)
    srv.env["PATH"] = f"{fake.parent}{os.pathsep}{srv.env['PATH']}"
    srv.start()
    try:
        with srv.client(srv.login()) as client:
            sid = client.post("/api/sessions", json={"workspace": "broken"}).json()["id"]
            failed = srv.wait_status(client, sid, "failed")
            assert "agent" in failed["error"] and "status 3" in failed["error"]
            assert "simulated failure" in failed["error"]
            assert session_pids(sid) == {}
    finally:
        assert srv.stop() == 0


def test_agent_tool_processes_die_with_the_session(
    server: OqtoServer, admin: httpx.Client, opencode_json: Path, fake_llm: FakeLLM
) -> None:
    """opencode runs each bash tool call in a new session of its own, out of reach of its
    process group: the session tag must still find what the agent left running."""
    import json as jsonlib
    import uuid

    sid = admin.post("/api/sessions", json={"workspace": "tool-leak"}).json()["id"]
    server.wait_status(admin, sid, "running")
    # A unique duration makes the process easy to find by its command line.
    marker = f"sleep 7{uuid.uuid4().int % 10**6:06d}"
    fake_llm.enqueue(
        Reply.tool(
            "bash",
            {
                "command": f"nohup {marker} >/dev/null 2>&1 & echo spawned",
                "description": "start a background process",
            },
        )
    )
    provider, model = jsonlib.loads(opencode_json.read_text())["model"].split("/", 1)
    oc = admin.post(f"/api/sessions/{sid}/agent/session", json={}).json()["id"]
    reply = admin.post(
        f"/api/sessions/{sid}/agent/session/{oc}/message",
        json={
            "parts": [{"type": "text", "text": "run it"}],
            "model": {"providerID": provider, "modelID": model},
        },
        timeout=120,
    )
    assert reply.status_code == 200, reply.text
    wait_for(lambda: pids_running(marker), 60, "the agent's background process")
    assert any(marker in cmd for cmd in session_pids(sid).values()), "not tagged"
    assert admin.post(f"/api/sessions/{sid}/stop").json()["status"] == "stopped"
    assert session_pids(sid) == {}
    assert not pids_running(marker)
    admin.delete(f"/api/sessions/{sid}")


def pids_running(command: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except (OSError, UnicodeDecodeError):
            continue
        if cmdline == command:
            found.append(int(entry.name))
    return found
