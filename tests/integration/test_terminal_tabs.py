"""Several terminals per session: `?name=N` through the control plane to ttyd's
`--url-arg` and the attach command, each its own tmux session; the bound; bad names."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from tests.integration.test_terminal import read_until, refusal, ws_url
from tests.support.server import OqtoServer
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from oqto.protocol.terminals import MAX_TERMINALS


@pytest.fixture(scope="module")
def tabs_session(server: OqtoServer, admin: httpx.Client) -> Iterator[dict[str, Any]]:
    """A session of its own: these tests fill its terminal slots."""
    created = admin.post("/api/sessions", json={"workspace": "tabs-proj"})
    assert created.status_code == 201, created.text
    session = server.wait_status(admin, created.json()["id"], "running")
    yield session
    admin.post(f"/api/sessions/{session['id']}/stop")


async def attach(url: str, admin: httpx.Client, query: str) -> ClientConnection:
    ws = await connect(
        f"{url}?{query}",
        subprotocols=["tty"],  # type: ignore[list-item]
        additional_headers={"Authorization": admin.headers["Authorization"]},
    )
    await ws.send(json.dumps({"AuthToken": "", "columns": 120, "rows": 30}).encode())
    return ws


async def until_closed(ws: ClientConnection) -> bytes:
    """Everything the terminal printed before ttyd ended the connection."""
    out = b""
    async with asyncio.timeout(30):
        try:
            while True:
                frame = await ws.recv()
                if isinstance(frame, bytes) and frame[:1] == b"0":
                    out += frame[1:]
        except ConnectionClosed:
            return out


async def close_terminal(url: str, admin: httpx.Client, name: str) -> None:
    await until_closed(await attach(url, admin, f"name={name}&close=1"))


def test_each_name_is_its_own_shell_and_close_ends_it(
    server: OqtoServer, admin: httpx.Client, tabs_session: dict[str, Any]
) -> None:
    url = ws_url(server, tabs_session)

    async def run() -> None:
        two = await attach(url, admin, "name=2")
        await two.send(b"0export OQTO_TAB=two-$((1+1)); echo set-$OQTO_TAB\r")
        await read_until(two, b"set-two-2")
        three = await attach(url, admin, "name=3")
        await three.send(b'0echo "three-sees-[$OQTO_TAB]"\r')
        await read_until(three, b"three-sees-[]")
        await two.close()
        await three.close()

        again = await attach(url, admin, "name=2")
        await again.send(b'0echo "again-[$OQTO_TAB]"\r')
        await read_until(again, b"again-[two-2]")
        # Closing ends the shell: the attached connection ends with it, and the name
        # then gets a fresh one.
        await close_terminal(url, admin, "2")
        await until_closed(again)
        fresh = await attach(url, admin, "name=2")
        await fresh.send(b'0echo "fresh-[$OQTO_TAB]"\r')
        await read_until(fresh, b"fresh-[]")
        await fresh.close()
        for name in ("2", "3"):
            await close_terminal(url, admin, name)

    asyncio.run(run())


def test_the_ninth_terminal_is_refused_with_a_message(
    server: OqtoServer, admin: httpx.Client, tabs_session: dict[str, Any]
) -> None:
    url = ws_url(server, tabs_session)
    names = [str(n) for n in range(11, 11 + MAX_TERMINALS)]

    async def run() -> None:
        for name in names:
            ws = await attach(url, admin, f"name={name}")
            await ws.send(f"0echo ready-$(({name}+0))\r".encode())
            await read_until(ws, f"ready-{name}".encode())
            await ws.close()
        refused = await until_closed(await attach(url, admin, "name=42"))
        assert f"already has {MAX_TERMINALS} terminals".encode() in refused
        # An existing one still attaches; closing one makes room.
        await close_terminal(url, admin, names[0])
        room = await attach(url, admin, "name=42")
        await room.send(b"0echo made-$((40+2))\r")
        await read_until(room, b"made-42")
        await room.close()
        for name in [*names[1:], "42"]:
            await close_terminal(url, admin, name)

    asyncio.run(run())


@pytest.mark.parametrize(
    "query",
    [
        "name=-x",
        "name=0",
        "name=100",
        "name=1%3Bls",
        "name=%3D1",
        "name=1&name=2",
        "arg=1",
        "name=1&arg=-t",
        "close=1",
        "name=1&close=yes",
        "name",
    ],
)
def test_a_bad_terminal_query_is_a_400(
    server: OqtoServer, admin: httpx.Client, tabs_session: dict[str, Any], query: str
) -> None:
    url = f"{ws_url(server, tabs_session)}?{query}"
    auth = {"Authorization": admin.headers["Authorization"]}
    assert asyncio.run(refusal(url, additional_headers=auth)) == (400, "bad_request")


def test_the_name_is_checked_only_after_sign_in(
    server: OqtoServer, tabs_session: dict[str, Any]
) -> None:
    url = f"{ws_url(server, tabs_session)}?name={quote('-x')}"
    assert asyncio.run(refusal(url)) == (401, "unauthorized")
