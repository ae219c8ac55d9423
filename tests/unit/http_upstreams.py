"""Real session services for the HTTP proxy's unit tests, all in the test's own event loop:
a uvicorn server on a Unix socket serving a recording ASGI app, a raw server that writes
exact bytes (for services that misbehave), a recorded browser side of one ASGI request,
and a runner for either event loop (`oqto serve` runs on uvloop)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
import uvloop
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tests.unit.session_world import eventually

from oqto.control.proxy.http import Watch, forward, upstream_target
from oqto.httpclient import MAX_CONNECTIONS, Connection, UpstreamPool
from oqto.sockclient import open_verified

LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop,
    "uvloop": uvloop.new_event_loop,
}


def run(loop: str, scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    async def bounded() -> None:
        async with asyncio.timeout(60):
            await scenario()

    with asyncio.Runner(loop_factory=LOOPS[loop]) as runner:
        runner.run(bounded())


# -- the service side --------------------------------------------------------------------


@dataclass
class Seen:
    """One request as the service got it."""

    method: str
    target: bytes
    headers: list[tuple[str, str]]
    body: bytes = b""

    def values(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k == name]

    @property
    def names(self) -> set[str]:
        return {k for k, _ in self.headers}


Answer = Callable[[Receive, Send, Seen], Awaitable[None]]


async def read_body(receive: Receive) -> bytes:
    parts = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        parts.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(parts)


def answer_with(
    body: bytes = b"{}",
    content_type: bytes = b"application/json",
    headers: Iterable[tuple[bytes, bytes]] = (),
    status: int = 200,
) -> Answer:
    """An answer that reads the whole request body first."""

    async def answer(receive: Receive, send: Send, seen: Seen) -> None:
        seen.body = await read_body(receive)
        await respond(send, body, content_type, headers, status)

    return answer


async def respond(
    send: Send,
    body: bytes = b"{}",
    content_type: bytes = b"application/json",
    headers: Iterable[tuple[bytes, bytes]] = (),
    status: int = 200,
) -> None:
    start = [(b"content-type", content_type), *headers]
    if not any(k == b"content-length" for k, _ in start):
        start.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": body})


class Service:
    """An ASGI app that records every request (and which of uvicorn's connections were
    open when it came) and answers with `answer`, replaceable per test."""

    def __init__(self, answer: Answer | None = None) -> None:
        self.answer = answer or answer_with()
        self.requests: list[Seen] = []
        self.server: uvicorn.Server | None = None
        # Every connection uvicorn had open while a request arrived: one per connection
        # the service ever saw carrying a request.
        self.connections: set[object] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        if self.server is not None:
            self.connections.update(self.server.server_state.connections)
        query = scope["query_string"]
        seen = Seen(
            method=scope["method"],
            target=scope["raw_path"] + (b"?" + query if query else b""),
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
        )
        self.requests.append(seen)
        await self.answer(receive, send, seen)

    @property
    def open_connections(self) -> int:
        assert self.server is not None
        return len(self.server.server_state.connections)


@contextlib.asynccontextmanager
async def uvicorn_upstream(service: ASGIApp, path: Path, **config: Any) -> AsyncIterator[Path]:
    """`service` (a `Service`, or any ASGI app) served by uvicorn on the Unix socket
    `path`, in this event loop."""
    server = uvicorn.Server(
        uvicorn.Config(
            service,
            uds=str(path),
            lifespan=config.pop("lifespan", "off"),
            log_config=None,
            log_level="error",
            timeout_graceful_shutdown=2,
            **config,
        )
    )
    if isinstance(service, Service):
        service.server = server
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: server.started or task.done(), within=10)
        if task.done():
            task.result()  # startup failed: say why
            raise AssertionError("uvicorn exited before it started")
        yield path
    finally:
        server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(task), 5)
        except TimeoutError:
            server.force_exit = True
            await task
        path.unlink(missing_ok=True)


@dataclass
class RawServer:
    """A service that speaks HTTP by hand: `handle` gets each connection and its number
    (0, 1, ...)."""

    path: Path
    connections: int = 0
    handlers: list[asyncio.Task[None]] = field(default_factory=list)


RawHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


@contextlib.asynccontextmanager
async def raw_upstream(path: Path, handle: RawHandler) -> AsyncIterator[RawServer]:
    raw = RawServer(path)

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        number = raw.connections
        raw.connections += 1
        task = asyncio.current_task()
        assert task is not None
        raw.handlers.append(task)
        try:
            await handle(reader, writer, number)
        finally:
            writer.close()

    server = await asyncio.start_unix_server(accept, str(path))
    try:
        yield raw
    finally:
        server.close()
        for task in raw.handlers:
            task.cancel()
        await asyncio.gather(*raw.handlers, return_exceptions=True)
        await server.wait_closed()
        path.unlink(missing_ok=True)


async def read_head(reader: asyncio.StreamReader) -> bytes:
    """A request's head, or b"" if the connection closed before one came."""
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return b""


# -- the control plane's side ------------------------------------------------------------


class Opener:
    """The user plane's part: a verified connection to the service's socket."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.calls = 0

    async def __call__(self) -> socket.socket:
        self.calls += 1
        return await open_verified(str(self.path), os.getuid())


AGENT_AUTH = b"Basic b3BlbmNvZGU6cHc="  # opencode:pw


@dataclass
class Rig:
    """A pool to one service (uvicorn's `service` or a `raw` one) and a way to send a
    browser's request through `forward`."""

    pool: UpstreamPool
    opener: Callable[[], Awaitable[socket.socket]]
    service: Service | None = None
    raw: RawServer | None = None

    async def call(
        self,
        method: str = "GET",
        target: bytes = b"/x",
        headers: Iterable[tuple[bytes, bytes]] = (),
        body: Iterable[bytes] = (),
        *,
        browser: Browser | None = None,
        label: str = "agent",
        max_body_bytes: int | None = None,
        watch: Watch | None = None,
    ) -> Browser:
        browser = browser or Browser(body)
        scope = request_scope(method, target, headers, label.encode())
        await forward(
            scope,
            browser.receive,
            browser.send,
            self.pool,
            upstream_target(scope, label),
            label,
            max_body_bytes=max_body_bytes,
            watch=watch,
        )
        return browser


@contextlib.asynccontextmanager
async def rig(
    tmp_path: Path,
    answer: Answer | None = None,
    *,
    authorization: bytes | None = AGENT_AUTH,
    max_connections: int = MAX_CONNECTIONS,
    **server: Any,
) -> AsyncIterator[Rig]:
    """A pool to a uvicorn service (`server`: more of uvicorn's settings)."""
    service = Service(answer)
    async with uvicorn_upstream(service, tmp_path / "svc.sock", **server) as path:
        opener = Opener(path)
        upstreams = UpstreamPool(opener, b"agent", authorization, max_connections)
        try:
            yield Rig(upstreams, opener, service=service)
        finally:
            upstreams.close()


@contextlib.asynccontextmanager
async def raw_rig(tmp_path: Path, handle: RawHandler) -> AsyncIterator[Rig]:
    async with raw_upstream(tmp_path / "raw.sock", handle) as raw:
        opener = Opener(raw.path)
        upstreams = UpstreamPool(opener, b"agent")
        try:
            yield Rig(upstreams, opener, raw=raw)
        finally:
            upstreams.close()


def only_connection(pool: UpstreamPool) -> Connection:
    conns = list(pool._all)
    assert len(conns) == 1, conns
    return conns[0]


# -- the browser side --------------------------------------------------------------------

CLIENT = ("203.0.113.7", 5555)


def request_scope(
    method: str = "GET",
    target: bytes = b"/x",
    headers: Iterable[tuple[bytes, bytes]] = (),
    service: bytes = b"agent",
) -> Scope:
    """The scope uvicorn would give the data plane for `method` on
    /api/sessions/s1/<service><target>, from a browser at CLIENT."""
    path, _, query = target.partition(b"?")
    raw = b"/api/sessions/s1/" + service + path
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "server": ("oqto.example", 80),
        "client": CLIENT,
        "root_path": "",
        "path": raw.decode(),
        "raw_path": raw,
        "query_string": query,
        "headers": [(b"host", b"oqto.example"), *headers],
    }


class Browser:
    """The browser side of one request: hands out the parts of `body` as it is asked for
    them (one empty part if there are none), then stays connected until `leave()`.
    Records every message it is sent; while `hold` is set up and not set, `send` waits
    (a slow reader), calling `on_send` first."""

    def __init__(self, body: Iterable[bytes] = ()) -> None:
        self._parts = iter(body)
        self._next: bytes | None = next(self._parts, b"")
        self.asked = 0
        self.sent: list[Message] = []
        self.gone = asyncio.Event()
        self.hold: asyncio.Event | None = None
        self.on_send: Callable[[], None] | None = None

    async def receive(self) -> Message:
        self.asked += 1
        if self._next is not None:
            part, self._next = self._next, next(self._parts, None)
            return {"type": "http.request", "body": part, "more_body": self._next is not None}
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if self.on_send is not None:
            self.on_send()
        if self.hold is not None:
            await self.hold.wait()
        self.sent.append(message)

    def leave(self) -> None:
        self.gone.set()

    @property
    def status(self) -> int:
        assert self.sent and self.sent[0]["type"] == "http.response.start", self.sent
        return int(self.sent[0]["status"])

    @property
    def headers(self) -> list[tuple[str, str]]:
        return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in self.sent[0]["headers"]]

    def header_names(self) -> list[str]:
        return [k.lower() for k, _ in self.headers]

    def values(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name]

    @property
    def bodies(self) -> list[bytes]:
        return [m.get("body", b"") for m in self.sent[1:]]

    @property
    def body(self) -> bytes:
        return b"".join(self.bodies)

    @property
    def complete(self) -> bool:
        """The answer ended properly (its last message says there is no more)."""
        return len(self.sent) > 1 and not self.sent[-1].get("more_body", False)

    def json(self) -> Any:
        return json.loads(self.body)
