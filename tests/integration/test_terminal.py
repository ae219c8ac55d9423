"""The session's real ttyd through the control plane's WebSocket proxy."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from tests.support.server import OqtoServer
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus


def ws_url(server: OqtoServer, session: dict[str, Any]) -> str:
    return server.url.replace("http", "ws") + f"/api/sessions/{session['id']}/terminal"


async def read_until(ws: ClientConnection, needle: bytes, timeout: float = 30) -> bytes:
    """Collect ttyd output frames ('0' + data) until `needle` shows up."""
    out = b""
    async with asyncio.timeout(timeout):
        while needle not in out:
            frame = await ws.recv()
            if isinstance(frame, bytes) and frame[:1] == b"0":
                out += frame[1:]
    return out


def test_type_command_and_resize(
    server: OqtoServer, admin: Any, running_session: dict[str, Any]
) -> None:
    async def run() -> None:
        async with connect(
            ws_url(server, running_session),
            subprotocols=["tty"],  # type: ignore[list-item]
            additional_headers={"Authorization": admin.headers["Authorization"]},
        ) as ws:
            assert ws.subprotocol == "tty"
            # An empty AuthToken is fine: the proxy supplies whatever ttyd needs.
            await ws.send(json.dumps({"AuthToken": "", "columns": 80, "rows": 24}).encode())
            await ws.send(b"0echo oqto-$((6*7)); pwd; stty size\r")
            out = await read_until(ws, b"24 80")
            assert b"oqto-42" in out
            assert running_session["workspace"].encode() in out  # the shell starts there
            await ws.send(b"1" + json.dumps({"columns": 132, "rows": 40}).encode())
            await ws.send(b"0stty size\r")
            await read_until(ws, b"40 132")

    asyncio.run(run())


def test_foreign_origin_is_refused(
    server: OqtoServer, admin: Any, running_session: dict[str, Any]
) -> None:
    async def run() -> None:
        with pytest.raises(InvalidStatus) as info:
            async with connect(
                ws_url(server, running_session),
                subprotocols=["tty"],  # type: ignore[list-item]
                additional_headers={"Authorization": admin.headers["Authorization"]},
                origin="https://evil.example",  # type: ignore[arg-type]
            ):
                pass
        assert info.value.response.status_code == 403
        assert json.loads(info.value.response.body or b"")["error"] == "origin_refused"

        async with connect(
            ws_url(server, running_session),
            subprotocols=["tty"],  # type: ignore[list-item]
            additional_headers={"Authorization": admin.headers["Authorization"]},
            origin=server.url,  # type: ignore[arg-type]
        ) as ws:
            assert ws.subprotocol == "tty"

    asyncio.run(run())


async def refusal(url: str, **kwargs: Any) -> tuple[int, str]:
    """The HTTP status and error code a refused upgrade was answered with."""
    with pytest.raises(InvalidStatus) as info:
        async with connect(url, subprotocols=["tty"], **kwargs):  # type: ignore[list-item]
            pass
    response = info.value.response
    return response.status_code, json.loads(response.body or b"{}").get("error", "")


def test_terminal_needs_auth(server: OqtoServer, running_session: dict[str, Any]) -> None:
    assert asyncio.run(refusal(ws_url(server, running_session))) == (401, "unauthorized")


def test_a_missing_or_stopped_session_is_told_apart_from_a_refusal(
    server: OqtoServer, admin: Any, running_session: dict[str, Any]
) -> None:
    auth = {"additional_headers": {"Authorization": admin.headers["Authorization"]}}
    created = admin.post("/api/sessions", json={"workspace": "stopped-proj"})
    assert created.status_code == 201, created.text
    stopped = created.json()
    assert admin.post(f"/api/sessions/{stopped['id']}/stop").json()["status"] == "stopped"

    async def run() -> None:
        missing = {"id": "nosuchsession"}
        assert await refusal(ws_url(server, missing), **auth) == (404, "not_found")
        assert await refusal(ws_url(server, stopped), **auth) == (409, "session_not_running")
        foreign = await refusal(
            ws_url(server, running_session), origin="https://evil.example", **auth
        )
        assert foreign == (403, "origin_refused")
        assert await refusal(ws_url(server, missing)) == (401, "unauthorized")

    asyncio.run(run())
    assert admin.delete(f"/api/sessions/{stopped['id']}").status_code == 204


def test_agent_pty_websocket(
    server: OqtoServer, admin: Any, running_session: dict[str, Any]
) -> None:
    """opencode's own PTY WebSocket, through the same relay (with opencode's credential,
    which the client never sees)."""
    base = f"/api/sessions/{running_session['id']}/agent/pty"
    created = admin.post(base, json={"command": "/bin/sh"})
    assert created.status_code == 200, created.text
    pty = created.json()["id"]

    async def run() -> None:
        url = server.url.replace("http", "ws") + f"{base}/{pty}/connect"
        headers = {"Authorization": admin.headers["Authorization"]}
        async with connect(url, additional_headers=headers) as ws:
            await ws.send("echo pty-$((6*7))\n")
            out = ""
            async with asyncio.timeout(30):
                while "pty-42" not in out:
                    message = await ws.recv()
                    out += message if isinstance(message, str) else message.decode(errors="replace")

    try:
        asyncio.run(run())
    finally:
        assert admin.delete(f"{base}/{pty}").status_code == 200


def test_a_second_connection_is_the_same_shell_in_a_private_tmux(
    server: OqtoServer, admin: Any, running_session: dict[str, Any]
) -> None:
    """Each connection attaches to the session's one tmux session: what the first set is
    there for the second. Its server's socket is in ttyd's own 0700 directory."""

    async def attach() -> ClientConnection:
        ws = await connect(
            ws_url(server, running_session),
            subprotocols=["tty"],  # type: ignore[list-item]
            additional_headers={"Authorization": admin.headers["Authorization"]},
        )
        await ws.send(json.dumps({"AuthToken": "", "columns": 100, "rows": 30}).encode())
        return ws

    async def run() -> None:
        first = await attach()
        await first.send(b"0export OQTO_SHARED=same-$((20+22)); echo set-$OQTO_SHARED\r")
        await read_until(first, b"set-same-42")
        await first.close()
        second = await attach()
        try:
            await second.send(b'0echo "again-$OQTO_SHARED in $TMUX"\r')
            out = await read_until(second, b"again-same-42")
            assert str(server.runtime).encode() in out  # $TMUX names the server's socket
        finally:
            await second.close()

    asyncio.run(run())
    sockets = list(server.runtime.glob(f"{running_session['id']}/terminal/tmux.sock"))
    assert len(sockets) == 1
    assert sockets[0].parent.stat().st_mode & 0o777 == 0o700
