"""The isolation matrix: two platform users A (alice) and B (bob), each with a Linux
account and a runner, and a control plane running as an unprivileged service account."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.multiuser.platform import (
    CONNECT_UNIX,
    MultiUserPlatform,
    PlatformUser,
    proc_stat,
    python_as,
    run_as,
)
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from oqto.osutil import acl


def proc_ids(pid: int) -> tuple[int, int]:
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    uid = int(next(line for line in status if line.startswith("Uid:")).split()[1])
    gid = int(next(line for line in status if line.startswith("Gid:")).split()[1])
    return uid, gid


def session_of(platform: MultiUserPlatform, user: PlatformUser, workspace: str) -> dict[str, Any]:
    with platform.client(user) as client:
        created = client.post("/api/sessions", json={"workspace": workspace})
        assert created.status_code == 201, created.text
        sid = created.json()["id"]
        from tests.support.server import wait_for

        def running() -> dict[str, Any] | None:
            body: dict[str, Any] = client.get(f"/api/sessions/{sid}").json()
            if body["status"] == "failed":
                raise AssertionError(body["error"])
            return body if body["status"] == "running" else None

        result: dict[str, Any] = wait_for(running, 300, f"session of {user.name} to run")
        return result


@pytest.fixture(scope="module")
def alice_session(platform: MultiUserPlatform, alice: PlatformUser) -> dict[str, Any]:
    return session_of(platform, alice, "alpha")


def runtime_of(user: PlatformUser, session_id: str) -> dict[str, Any]:
    """The runner's own record of a session (root may read it)."""
    record = user.account.home / ".local/state/oqto/runner/sessions" / f"{session_id}.json"
    data: dict[str, Any] = json.loads(record.read_text())
    return data


def test_control_plane_runs_as_service_account(platform: MultiUserPlatform) -> None:
    assert platform.proc is not None
    uid, _ = proc_ids(platform.proc.pid)
    assert uid == platform.service.uid != 0
    assert httpx.get(f"{platform.url}/api/health").json()["mode"] == "multi-user"


def test_session_processes_run_as_their_user(
    platform: MultiUserPlatform, alice: PlatformUser, alice_session: dict[str, Any]
) -> None:
    record = runtime_of(alice, alice_session["id"])
    assert {p["name"] for p in record["processes"]} == {"agent", "files", "terminal"}
    for process in record["processes"]:
        assert proc_ids(process["pid"]) == (alice.account.uid, alice.account.gid)
        # Spawned by the runner, not by the control plane.
        ppid = int(proc_stat(process["pid"])[1])
        assert platform.proc is not None and ppid != platform.proc.pid
    workspace = alice.account.home / "oqto/workspaces" / alice.name / "alpha"
    assert workspace.is_dir() and workspace.stat().st_uid == alice.account.uid


def test_other_user_cannot_connect_to_runner_socket(
    platform: MultiUserPlatform, alice: PlatformUser, bob: PlatformUser
) -> None:
    socket_path = platform.runner_socket(alice)
    result = run_as(bob.account, CONNECT_UNIX, str(socket_path))
    assert result.stdout.startswith("PermissionError"), result.stdout + result.stderr
    # The service account can (the ACL grants it), and so can alice herself.
    assert "CONNECTED" in run_as(platform.service, CONNECT_UNIX, str(socket_path)).stdout
    assert "CONNECTED" in run_as(alice.account, CONNECT_UNIX, str(socket_path)).stdout


def test_peer_credentials_refuse_a_foreign_uid_that_gets_through(
    platform: MultiUserPlatform, alice: PlatformUser, bob: PlatformUser
) -> None:
    """Second layer: even if the filesystem let bob through (here an ACL we add on
    purpose), the runner's SO_PEERCRED check closes the connection without a word."""
    socket_path = platform.runner_socket(alice)
    for path, perms in ((socket_path.parent, "x"), (socket_path, "rw")):
        acl.grant_user(path, bob.account.uid, perms)
    try:
        result = run_as(bob.account, CONNECT_UNIX, str(socket_path))
        assert result.stdout.strip() == "CONNECTED b''", result.stdout + result.stderr
    finally:
        acl.revoke_user(socket_path, bob.account.uid)
        acl.revoke_user(socket_path.parent, bob.account.uid)
        acl.grant_user(socket_path.parent, platform.service.uid, "x")
    assert "refused runner connection from uid=" + str(bob.account.uid) in alice.log.read_text()


# A listener where the terminal's tmux server puts its socket, held by alice until its
# stdin closes (a real tmux server would daemonize, and nothing here would reap it).
LISTEN_UNTIL_EOF = """
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen()
print("LISTENING", flush=True)
sys.stdin.read()
"""


def test_other_user_cannot_reach_session_services(
    platform: MultiUserPlatform,
    alice: PlatformUser,
    bob: PlatformUser,
    alice_session: dict[str, Any],
) -> None:
    record = runtime_of(alice, alice_session["id"])
    endpoints = record["endpoints"]
    # Neither another user nor the control plane's own account can connect: the control
    # plane gets its connections from alice's runner (passed over the runner socket).
    # The terminal's tmux server (started by the first terminal connection) listens beside
    # ttyd, in the same 0700 directory: a listener of alice's there is attacked too.
    tmux_socket = str(Path(endpoints["terminal_socket"]).with_name("tmux.sock"))
    holder = subprocess.Popen(
        python_as(alice.account, LISTEN_UNTIL_EOF, tmux_socket),
        env={"PATH": "/usr/bin:/bin"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "LISTENING\n"
        assert run_as(alice.account, CONNECT_UNIX, tmux_socket).stdout.startswith("CONNECTED")
        sockets = (
            endpoints["agent_socket"],
            endpoints["files_socket"],
            endpoints["terminal_socket"],
            tmux_socket,
        )
        for account in (bob.account, platform.service):
            for socket_path in sockets:
                result = run_as(account, CONNECT_UNIX, socket_path)
                assert result.stdout.startswith("PermissionError"), (socket_path, result.stdout)
    finally:
        holder.communicate(timeout=30)
        Path(tmux_socket).unlink(missing_ok=True)
    # Sandboxed with a network of its own, opencode listens inside it: alice has no
    # listening TCP port on the host at all for bob to try.
    assert endpoints["agent_port"] is None
    assert tcp_listeners_of(alice.account.uid) == []


def tcp_listeners_of(uid: int) -> list[str]:
    """Local addresses of the host's listening TCP sockets owned by `uid`."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[7]) == uid:
                found.append(fields[1])
    return found


def test_service_account_cannot_read_user_files(
    platform: MultiUserPlatform, alice: PlatformUser, alice_session: dict[str, Any]
) -> None:
    workspace = alice.account.home / "oqto/workspaces" / alice.name / "alpha"
    (workspace / "private.txt").write_text("alice only")
    os.chown(workspace / "private.txt", alice.account.uid, alice.account.gid)
    code = (
        "import sys\n"
        "try:\n"
        "    open(sys.argv[1]).read(); print('READ')\n"
        "except OSError as e:\n"
        "    print(type(e).__name__)"
    )
    result = run_as(platform.service, code, str(workspace / "private.txt"))
    assert result.stdout.strip() == "PermissionError"
    # ...and yet the platform serves it to alice, through her runner's file server.
    with platform.client(alice) as client:
        got = client.get(
            f"/api/sessions/{alice_session['id']}/files/file", params={"path": "private.txt"}
        )
        assert got.status_code == 200 and got.text == "alice only"


def test_api_isolation_between_users(
    platform: MultiUserPlatform,
    alice: PlatformUser,
    bob: PlatformUser,
    alice_session: dict[str, Any],
) -> None:
    sid = alice_session["id"]
    with platform.client(bob) as client:
        assert client.get("/api/sessions").json() == []
        for method, path in [
            ("GET", f"/api/sessions/{sid}"),
            ("POST", f"/api/sessions/{sid}/stop"),
            ("POST", f"/api/sessions/{sid}/resume"),
            ("DELETE", f"/api/sessions/{sid}"),
            ("GET", f"/api/sessions/{sid}/files/tree"),
            ("GET", f"/api/sessions/{sid}/agent/session"),
        ]:
            assert client.request(method, path).status_code == 404, (method, path)

    async def terminal() -> None:
        url = platform.url.replace("http", "ws") + f"/api/sessions/{sid}/terminal"
        with pytest.raises(InvalidStatus):
            async with connect(url, additional_headers={"Authorization": f"Bearer {bob.token}"}):
                pass
        async with connect(
            url,
            subprotocols=["tty"],  # type: ignore[list-item]
            additional_headers={"Authorization": f"Bearer {alice.token}"},
        ) as ws:
            await ws.send(json.dumps({"AuthToken": "", "columns": 80, "rows": 24}).encode())
            await ws.send(b"0id -un\r")
            out = b""
            async with asyncio.timeout(30):
                while alice.account.name.encode() not in out:
                    frame = await ws.recv()
                    if isinstance(frame, bytes) and frame[:1] == b"0":
                        out += frame[1:]

    asyncio.run(terminal())
    with platform.client(alice) as client:
        assert client.get(f"/api/sessions/{sid}").json()["status"] == "running"
