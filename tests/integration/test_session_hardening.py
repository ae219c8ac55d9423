"""Attacks on a session by another local account (port squatting) and by the session's
own processes (escaping a stop), against the real services."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.integration.test_terminal import read_until, ws_url
from tests.support.server import OqtoServer, wait_for
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

OPENCODE_FIRST_PORT = 4096  # what `opencode serve --port 0` tries before a random one

SQUATTER = """
import socket, sys, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
print("READY", flush=True)
while True:
    c, _ = s.accept()
    c.settimeout(5)
    try:
        data = c.recv(65536)
    except OSError:
        data = b""
    with open(sys.argv[2], "ab") as f:
        f.write(data or b"<connection without data>")
    c.close()
"""


@pytest.fixture
def squatter(tmp_path: Path) -> Iterator[Path]:
    """Another account (nobody) listening on the port opencode would pick first, recording
    whatever it is sent."""
    if os.geteuid() != 0:
        pytest.skip("needs root to run a listener as another account")
    log = tmp_path / "squatted"
    tmp_path.chmod(0o777)
    proc = subprocess.Popen(
        [
            *("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"),
            *(sys.executable, "-c", SQUATTER, str(OPENCODE_FIRST_PORT), str(log)),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "READY":
        proc.kill()
        proc.wait()
        pytest.skip(f"port {OPENCODE_FIRST_PORT} is in use here")
    try:
        yield log
    finally:
        proc.kill()
        proc.wait()


def test_a_squatted_port_gets_no_credential_and_the_session_still_runs(
    server: OqtoServer, admin: httpx.Client, squatter: Path
) -> None:
    created = admin.post("/api/sessions", json={"workspace": "squatted"})
    assert created.status_code == 201, created.text
    sid = created.json()["id"]
    try:
        server.wait_status(admin, sid, "running")
        got = admin.get(f"/api/sessions/{sid}/agent/session")
        assert got.status_code == 200, got.text
        assert not squatter.exists(), f"the squatter received: {squatter.read_bytes()[:200]!r}"
    finally:
        admin.delete(f"/api/sessions/{sid}")


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
