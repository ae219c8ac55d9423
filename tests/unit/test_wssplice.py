"""The spliced WebSocket relay (oqto.control.proxy.websocket + wssplice) against a real
uvicorn with the front door's configuration, on uvloop, in the test's event loop: a tiny
app relays `/ws` to a service of the test's own (a websockets server, or a hostile one
that writes raw bytes) on a Unix socket."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import random
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
import uvloop
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.connection import Connection
from websockets.asyncio.server import ServerConnection, unix_serve
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from oqto.config.model import ServerSection
from oqto.control.frontdoor import uvicorn_config
from oqto.control.proxy import websocket as relay_module
from oqto.control.proxy.websocket import relay
from oqto.control.proxy.wssplice import Splice, SplicingWebSocketProtocol

LIMIT = 64 * 1024  # [server] ws_max_message_bytes for these tests
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TTY = [Subprotocol("tty")]  # the services here require one, as ttyd does


@dataclass
class Relay:
    """The running server, and what the app saw."""

    url: str
    server: uvicorn.Server
    ends: list[Callable[[], None]] = field(default_factory=list)  # one per tracked connection
    untracked: int = 0

    def splice(self) -> Splice:
        spliced = [
            c.splice
            for c in self.server.server_state.connections
            if isinstance(c, SplicingWebSocketProtocol) and c.splice is not None
        ]
        assert len(spliced) == 1, spliced
        return spliced[0]


def run(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(asyncio.wait_for(test(), 60))


@contextlib.asynccontextmanager
async def serving(service: Path) -> AsyncIterator[Relay]:
    async def opener() -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, str(service))
        return sock

    def track(end: Callable[[], None]) -> Callable[[], None]:
        state.ends.append(end)

        def untrack() -> None:
            state.untracked += 1

        return untrack

    async def endpoint(websocket: WebSocket) -> None:
        await relay(websocket, open_upstream=opener, host="svc", path="/ws", track=track)

    app = Starlette(routes=[WebSocketRoute("/ws", endpoint)])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    server = uvicorn.Server(uvicorn_config(app, ServerSection(ws_max_message_bytes=LIMIT)))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    state = Relay(f"ws://127.0.0.1:{sock.getsockname()[1]}/ws", server)
    try:
        async with asyncio.timeout(10):
            while not server.started:
                await asyncio.sleep(0.01)
        yield state
    finally:
        server.should_exit = True
        await task
        sock.close()


@contextlib.asynccontextmanager
async def service(
    tmp_path: Path, handler: Callable[[ServerConnection], Awaitable[None]], **kwargs: Any
) -> AsyncIterator[Path]:
    """A well-behaved WebSocket service (subprotocol `tty`)."""
    path = tmp_path / "svc.sock"
    async with unix_serve(handler, str(path), subprotocols=TTY, **kwargs):
        yield path


@contextlib.asynccontextmanager
async def hostile(
    tmp_path: Path, answer: Callable[[bytes, asyncio.StreamWriter], Awaitable[None]]
) -> AsyncIterator[Path]:
    """A service that reads the upgrade request and then does whatever `answer` does
    with the accept key it computed."""
    path = tmp_path / "hostile.sock"
    handlers: set[asyncio.Task[None]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.add(asyncio.current_task())
        head = await reader.readuntil(b"\r\n\r\n")
        key = next(
            line.split(b":", 1)[1].strip()
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key:")
        )
        try:
            await answer(base64.b64encode(hashlib.sha1(key + GUID).digest()), writer)
        except ConnectionError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_unix_server(handle, str(path))
    try:
        yield path
    finally:
        server.close()
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)


@contextlib.asynccontextmanager
async def through(
    upstream: contextlib.AbstractAsyncContextManager[Path], **kwargs: Any
) -> AsyncIterator[tuple[Relay, ClientConnection]]:
    """A client connected to the relay in front of `upstream`."""
    async with (
        upstream as svc,
        serving(svc) as running,
        # A hostile service never answers the client's close: do not wait long for it.
        connect(running.url, subprotocols=TTY, close_timeout=1, **kwargs) as ws,
    ):
        yield running, ws


def switching(accept: bytes, extra: bytes = b"") -> bytes:
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept + b"\r\n" + extra + b"\r\n"
    )


async def until_closed(ws: Connection) -> tuple[int | None, str | None]:
    with contextlib.suppress(ConnectionClosed):
        while True:
            await ws.recv()
    return ws.close_code, ws.close_reason


async def echo(ws: ServerConnection) -> None:
    async for message in ws:
        if message == "close please":
            await ws.close(4001, "bye")
            return
        await ws.send(message)


# -- relaying ------------------------------------------------------------------------------


def test_messages_subprotocol_and_close_codes_pass_end_to_end(tmp_path: Path) -> None:
    async def test() -> None:
        async with through(service(tmp_path, echo)) as (running, ws):
            assert ws.subprotocol == "tty"
            await ws.send(b"\x00binary")
            assert await ws.recv() == b"\x00binary"
            await ws.send("text \u00e9")
            assert await ws.recv() == "text \u00e9"
            big = bytes(range(256)) * 200  # 51 KB: spans many reads
            await ws.send(big)
            assert await ws.recv() == big
            await ws.ping(b"are you there")  # answered by the service, through us
            await ws.send("close please")
            assert await until_closed(ws) == (4001, "bye")
            assert len(running.ends) == 1
            async with asyncio.timeout(10):  # the app returned and unregistered
                while running.untracked != 1:
                    await asyncio.sleep(0.01)

    run(test)


def test_the_browsers_close_code_reaches_the_service(tmp_path: Path) -> None:
    seen: asyncio.Future[int | None] | None = None

    async def record(ws: ServerConnection) -> None:
        await until_closed(ws)
        assert seen is not None
        seen.set_result(ws.close_code)

    async def test() -> None:
        nonlocal seen
        seen = asyncio.get_running_loop().create_future()
        async with through(service(tmp_path, record)) as (_running, ws):
            await ws.close(4002, "done here")
            assert await seen == 4002

    run(test)


@pytest.mark.parametrize("compression", ["deflate", None])
def test_extensions_are_agreed_between_browser_and_service(
    tmp_path: Path, compression: str | None
) -> None:
    async def test() -> None:
        async with through(service(tmp_path, echo, compression=compression)) as (_running, ws):
            names = [e.name for e in ws.protocol.extensions]
            assert names == (["permessage-deflate"] if compression else [])
            text = "compressible " * 3000
            await ws.send(text)
            assert await ws.recv() == text

    run(test)


def test_frames_sent_with_the_answer_are_not_lost(tmp_path: Path) -> None:
    async def answer(accept: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(switching(accept) + b"\x82\x05hello")
        await writer.drain()
        await asyncio.Event().wait()

    async def test() -> None:
        async with through(hostile(tmp_path, answer)) as (_running, ws):
            assert await ws.recv() == b"hello"

    run(test)


# -- bounds --------------------------------------------------------------------------------


def test_an_oversize_message_from_the_service_ends_with_1009(tmp_path: Path) -> None:
    async def flood(ws: ServerConnection) -> None:
        await ws.send(b"small")
        await ws.send(random.randbytes(LIMIT + 1))  # the bound is on the wire: incompressible
        await until_closed(ws)

    async def test() -> None:
        async with through(service(tmp_path, flood), max_size=None) as (_running, ws):
            assert await ws.recv() == b"small"
            assert (await until_closed(ws))[0] == 1009

    run(test)


def test_an_oversize_message_from_the_browser_ends_with_1009(tmp_path: Path) -> None:
    got: list[bytes | str] = []

    async def keep(ws: ServerConnection) -> None:
        async for message in ws:
            got.append(message)

    async def test() -> None:
        async with through(service(tmp_path, keep, max_size=None)) as (_running, ws):
            await ws.send(random.randbytes(LIMIT + 1))
            assert (await until_closed(ws))[0] == 1009
        assert got == []  # nothing of it reached the service

    run(test)


def test_a_malformed_frame_from_the_service_ends_with_1002(tmp_path: Path) -> None:
    async def answer(accept: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(switching(accept))
        writer.write(b"\x82\x85" + b"mask" + b"hello")  # a server must not mask
        await writer.drain()
        await asyncio.Event().wait()

    async def test() -> None:
        async with through(hostile(tmp_path, answer)) as (_running, ws):
            assert (await until_closed(ws))[0] == 1002

    run(test)


def test_a_slow_browser_pauses_the_service_and_nothing_is_lost(tmp_path: Path) -> None:
    """The browser reads nothing while the service sends 64 MiB: we stop reading from the
    service with little held, and everything arrives once the browser reads."""
    total = 64 << 20
    chunk = bytes(range(256)) * 256  # 64 KiB messages

    async def firehose(ws: ServerConnection) -> None:
        for _ in range(total // len(chunk)):
            await ws.send(chunk)
        await until_closed(ws)

    async def test() -> None:
        async with through(service(tmp_path, firehose), max_queue=1, compression=None) as (
            running,
            ws,
        ):
            async with asyncio.timeout(20):
                while running.splice().reading[1]:
                    await asyncio.sleep(0.01)
            assert running.splice().buffered < 1 << 20
            received = 0
            while received < total:
                message = await ws.recv()
                assert message == chunk
                received += len(message)

    run(test)


def test_a_slow_service_pauses_the_browser(tmp_path: Path) -> None:
    async def answer(accept: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(switching(accept))
        await writer.drain()
        await asyncio.Event().wait()  # never reads

    async def test() -> None:
        async with through(hostile(tmp_path, answer), compression=None) as (running, ws):
            sender = asyncio.create_task(_send_forever(ws))
            async with asyncio.timeout(20):
                while running.splice().reading[0]:
                    await asyncio.sleep(0.01)
            assert running.splice().buffered < 1 << 20
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)

    run(test)


async def _send_forever(ws: ClientConnection) -> None:
    chunk = b"k" * 32768
    while True:
        await ws.send(chunk)


# -- ending --------------------------------------------------------------------------------


def test_an_ended_sign_in_closes_with_1008_and_drops_the_service(tmp_path: Path) -> None:
    service_done: asyncio.Future[None] | None = None

    async def wait(ws: ServerConnection) -> None:
        await until_closed(ws)
        assert service_done is not None
        service_done.set_result(None)

    async def test() -> None:
        nonlocal service_done
        service_done = asyncio.get_running_loop().create_future()
        async with through(service(tmp_path, wait)) as (running, ws):
            async with asyncio.timeout(10):
                while not running.ends:
                    await asyncio.sleep(0.01)
            running.ends[0]()
            assert await until_closed(ws) == (1008, "signed out")
            await service_done

    run(test)


def test_a_service_that_vanishes_is_reported_as_1011(tmp_path: Path) -> None:
    async def answer(accept: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(switching(accept) + b"\x82\x02hi")
        await writer.drain()  # then the handler closes the connection, no close frame

    async def test() -> None:
        async with through(hostile(tmp_path, answer)) as (_running, ws):
            assert await ws.recv() == b"hi"
            assert (await until_closed(ws))[0] == 1011

    run(test)


def test_server_shutdown_closes_with_1012(tmp_path: Path) -> None:
    async def test() -> None:
        async with through(service(tmp_path, echo)) as (running, ws):
            await ws.send("x")
            assert await ws.recv() == "x"
            running.server.should_exit = True
            assert (await until_closed(ws))[0] == 1012

    run(test)


# -- refused upgrades ----------------------------------------------------------------------


def _answer_with(raw: Callable[[bytes], bytes]) -> Callable[[bytes, asyncio.StreamWriter], Any]:
    async def answer(accept: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(raw(accept))
        await writer.drain()
        await asyncio.Event().wait()

    return answer


@pytest.mark.parametrize(
    "raw",
    [
        lambda _a: b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
        lambda _a: switching(b"d3Jvbmcga2V5IGFjY2VwdGVkIQ=="),
        lambda a: switching(a, b"Sec-WebSocket-Protocol: evil\r\n"),
        lambda a: switching(a, b"Sec-WebSocket-Extensions: x-evil\r\n"),
        lambda a: switching(a).replace(b"Upgrade: websocket\r\n", b""),
        lambda a: b"not http at all\r\n\r\n",
        lambda a: switching(a, b"X-Big: " + b"b" * 40000 + b"\r\n"),
    ],
    ids=["404", "wrong-accept", "subprotocol", "extension", "no-upgrade", "garbage", "huge"],
)
def test_an_invalid_answer_is_refused_with_502(
    tmp_path: Path, raw: Callable[[bytes], bytes]
) -> None:
    async def test() -> None:
        async with hostile(tmp_path, _answer_with(raw)) as svc, serving(svc) as running:
            with pytest.raises(InvalidStatus) as info:
                async with connect(running.url, subprotocols=TTY):
                    pass
            response = info.value.response
            assert response.status_code == 502
            assert json.loads(response.body or b"")["error"] == "upstream_unavailable"
            assert running.ends == []

    run(test)


def test_a_service_that_does_not_answer_is_refused_with_504(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(relay_module, "OPEN_TIMEOUT", 0.5)

    async def silent(_accept: bytes, _writer: asyncio.StreamWriter) -> None:
        await asyncio.Event().wait()

    async def test() -> None:
        async with hostile(tmp_path, silent) as svc, serving(svc) as running:
            with pytest.raises(InvalidStatus) as info:
                async with connect(running.url, subprotocols=TTY):
                    pass
            assert info.value.response.status_code == 504

    run(test)
