"""Attacks on a session by another local account (port squatting) and by the session's
own processes (escaping a stop), against the real services."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.integration.test_terminal import read_until, ws_url
from tests.support.server import OqtoServer, tool_env, wait_for
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from oqto.userplane.proctree import SESSION_ENV

DRIVER = Path(__file__).with_name("squat_driver.py")


def test_a_squatted_port_gets_no_credential_and_the_session_still_runs(tmp_path: Path) -> None:
    """Another account listens on 127.0.0.1:4096, the port opencode tries first. In a
    private network namespace, so that no other opencode of this run holds it already."""
    if os.geteuid() != 0:
        pytest.skip("needs root for a network namespace and a listener as another account")
    tmp_path.chmod(0o777)  # the squatter (nobody) writes what it receives here
    done = subprocess.run(
        ["unshare", "--net", "--", sys.executable, str(DRIVER), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env=tool_env(),
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["squatter_ready"], "the squatter could not take the port"
    assert result["state"] == "running"
    assert result["agent_port"] != 4096 and result["agent_status"] == 200
    assert result["received"] == "", f"the squatter received: {result['received'][:300]!r}"


def test_a_process_that_drops_its_tag_and_daemonises_is_stopped(
    server: OqtoServer, admin: httpx.Client
) -> None:
    created = admin.post("/api/sessions", json={"workspace": "escapee"})
    assert created.status_code == 201, created.text
    session: dict[str, Any] = server.wait_status(admin, created.json()["id"], "running")
    marker = f"oqto-escapee-{session['id']}"

    async def escape() -> None:
        async with connect(
            ws_url(server, session),
            subprotocols=["tty"],  # type: ignore[list-item]
            additional_headers={"Authorization": admin.headers["Authorization"]},
        ) as ws:
            await ws.send(b'{"AuthToken":"","columns":120,"rows":30}')
            # Double fork, new session, no session tag, argv naming the marker.
            command = (
                f"(env -u OQTO_SESSION_ID -u OQTO_INSTANCE setsid "
                f"bash -c 'exec -a {marker} sleep 600' &) ; echo launched-$((6*7))\r"
            )
            await ws.send(b"0" + command.encode())
            await read_until(ws, b"launched-42")

    asyncio.run(escape())

    def escapees() -> list[int]:
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if (entry / "cmdline").read_bytes().startswith(marker.encode()):
                        found.append(int(entry.name))
                except OSError:
                    continue
        return found

    pids = wait_for(escapees, 30, "the escaped process to start")
    environ = Path(f"/proc/{pids[0]}/environ").read_bytes()
    assert b"OQTO_SESSION_ID=" not in environ
    stopped = admin.post(f"/api/sessions/{session['id']}/stop")
    assert stopped.json()["status"] == "stopped"
    wait_for(lambda: not escapees(), 30, "the escaped process to be killed by the stop")
    admin.delete(f"/api/sessions/{session['id']}")


def test_signing_out_ends_open_terminals_and_agent_streams(
    server: OqtoServer, admin: httpx.Client, running_session: dict[str, Any]
) -> None:
    """A second sign-in opens a terminal and the agent's event stream, then signs out:
    both end within seconds, though neither makes another request."""
    token = server.login()
    sid = running_session["id"]

    async def scenario() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            httpx.AsyncClient(base_url=server.url, headers=headers, timeout=60) as client,
            client.stream("GET", f"/api/sessions/{sid}/agent/event") as events,
            connect(
                ws_url(server, running_session),
                subprotocols=["tty"],  # type: ignore[list-item]
                additional_headers=headers,
            ) as ws,
        ):
            assert events.status_code == 200
            await ws.send(b'{"AuthToken":"","columns":80,"rows":24}')
            await ws.send(b"0echo before-$((40+2))\r")
            await read_until(ws, b"before-42")
            stream = events.aiter_raw().__aiter__()
            await stream.__anext__()  # opencode's first event: the stream is live
            signed_out = await client.post("/api/auth/logout")
            assert signed_out.status_code in (200, 204), signed_out.text
            async with asyncio.timeout(15):
                with contextlib.suppress(ConnectionClosed):
                    while True:
                        await ws.recv()
                assert ws.close_code == 1008
                async for _chunk in stream:
                    pass  # ends: the proxy finishes the response
        assert admin.get("/api/auth/me").status_code == 200  # only that sign-in ended

    asyncio.run(scenario())


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    with contextlib.suppress(OSError):
        for entry in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(entry)
                if target.startswith("socket:["):
                    inodes.add(int(target[8:-1]))
    return inodes


def test_no_session_process_holds_the_control_planes_sockets(
    server: OqtoServer, running_session: dict[str, Any]
) -> None:
    """The control plane spawns session services itself in single-user mode (on uvloop,
    whose libuv spawn has no close_fds): none of them may inherit its listening socket,
    or a session's agent could accept the connections browsers make to the platform."""
    assert server.proc is not None
    ours = _socket_inodes(server.proc.pid)
    assert ours, "the control plane holds no sockets?"
    session_pids = [
        int(p.name)
        for p in Path("/proc").iterdir()
        if p.name.isdigit() and int(p.name) != server.proc.pid and _has_tag(p, running_session)
    ]
    assert session_pids, "no process of the running session found"
    for pid in session_pids:
        shared = ours & _socket_inodes(pid)
        assert not shared, f"session process {pid} holds control-plane sockets {shared}"


def _has_tag(proc: Path, session: dict[str, Any]) -> bool:
    try:
        environ = (proc / "environ").read_bytes()
    except OSError:
        return False
    return f"{SESSION_ENV}={session['id']}".encode() in environ.split(b"\0")
