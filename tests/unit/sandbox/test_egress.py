"""The allow-list egress proxy over real sockets: a Unix socket in front, real TCP servers
behind (an echo server, a small HTTP origin), and h11 or raw bytes as the client."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import stat
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import h11
import pytest

from oqto.sandbox.egress import EgressLimits, EgressProxy, Target, allow_list, parse_target

T = TypeVar("T")
DEADLINE = 20.0


def run(coro: Awaitable[T]) -> T:
    async def bounded() -> T:
        async with asyncio.timeout(DEADLINE):
            return await coro

    return asyncio.run(bounded())


@pytest.fixture
def sock_dir() -> Iterator[Path]:
    # pytest's tmp_path can be too long for a Unix socket's 107 bytes.
    with tempfile.TemporaryDirectory(prefix="egress-", dir="/tmp") as path:
        yield Path(path)


# -- upstreams ------------------------------------------------------------------------


@dataclass
class Listener:
    """A TCP server on 127.0.0.1 that counts the connections it accepted."""

    handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
    accepted: int = 0
    server: asyncio.Server | None = None
    closed: list[bool] = field(default_factory=list)  # one entry per handler that finished

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    @property
    def authority(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        try:
            await self.handler(reader, writer)
        except (OSError, h11.ProtocolError):
            pass
        finally:
            writer.close()
            self.closed.append(True)


@contextlib.asynccontextmanager
async def listening(
    handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
) -> AsyncIterator[Listener]:
    listener = Listener(handler)
    listener.server = await asyncio.start_server(listener._serve, "127.0.0.1", 0)
    try:
        yield listener
    finally:
        listener.server.close()
        await listener.server.wait_closed()


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()


async def origin(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """HTTP/1.1 with keep-alive: answers each request with what it received, as JSON."""
    conn = h11.Connection(h11.SERVER)
    while True:
        request: h11.Request | None = None
        body = b""
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await reader.read(65536))
            elif isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
            else:
                return
        assert request is not None
        seen = {
            "method": request.method.decode(),
            "target": request.target.decode(),
            "headers": [[k.decode(), v.decode()] for k, v in request.headers],
            "body": body.decode(),
        }
        payload = json.dumps(seen).encode()
        headers = [("content-type", "application/json"), ("content-length", str(len(payload)))]
        headers += [("connection", "x-hop"), ("x-hop", "1"), ("keep-alive", "timeout=5")]
        writer.write(conn.send(h11.Response(status_code=200, headers=headers)) or b"")
        writer.write(conn.send(h11.Data(data=payload)) or b"")
        writer.write(conn.send(h11.EndOfMessage()) or b"")
        await writer.drain()
        if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
            return
        conn.start_next_cycle()


@contextlib.asynccontextmanager
async def proxied(
    path: Path,
    handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
    limits: EgressLimits | None = None,
    session_id: str = "s1",
) -> AsyncIterator[tuple[EgressProxy, Listener]]:
    """An upstream and a proxy whose allow-list is exactly that upstream."""
    async with (
        listening(handler) as upstream,
        EgressProxy(path, [upstream.authority], session_id=session_id, limits=limits) as proxy,
    ):
        yield proxy, upstream


# -- clients --------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class HttpClient:
    """One keep-alive connection to the proxy's socket, speaking through h11."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.conn = h11.Connection(h11.CLIENT)

    @classmethod
    async def open(cls, path: Path) -> HttpClient:
        return cls(*await asyncio.open_unix_connection(path))

    async def request(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]] | None = None,
        body: list[bytes] | None = None,
    ) -> Answer:
        host = url.split("/")[2] if "://" in url else "example.com"
        all_headers = [("host", host), *(headers or [])]
        if body is not None and not any(k.lower() == "transfer-encoding" for k, _ in all_headers):
            all_headers.append(("content-length", str(sum(map(len, body)))))
        self.writer.write(
            self.conn.send(h11.Request(method=method, target=url, headers=all_headers))
        )
        for part in body or []:
            self.writer.write(self.conn.send(h11.Data(data=part)) or b"")
        self.writer.write(self.conn.send(h11.EndOfMessage()) or b"")
        await self.writer.drain()
        return await self.answer()

    async def answer(self) -> Answer:
        status, headers, body = 0, {}, b""
        while True:
            event = self.conn.next_event()
            if event is h11.NEED_DATA:
                self.conn.receive_data(await self.reader.read(65536))
            elif isinstance(event, h11.Response):
                status = event.status_code
                headers = {k.decode(): v.decode() for k, v in event.headers}
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                if self.conn.our_state is h11.DONE and self.conn.their_state is h11.DONE:
                    self.conn.start_next_cycle()
                return Answer(status, headers, body)
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectionResetError("closed before an answer")

    async def closed(self) -> bool:
        return await self.reader.read(1) == b""

    def close(self) -> None:
        self.writer.close()


async def raw_answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Status and body of a response that closes the connection (the proxy's own)."""
    data = await reader.read()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


async def connect_tunnel(
    path: Path, authority: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bytes]:
    reader, writer = await asyncio.open_unix_connection(path)
    writer.write(f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    return reader, writer, head


async def wait_for(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.005)  # polling a condition; the test's deadline bounds it


# -- parsing the allow-list -----------------------------------------------------------


def test_targets_compare_in_one_spelling() -> None:
    assert parse_target("API.OpenAI.com.:443") == Target("api.openai.com", 443)
    assert parse_target("bücher.example:443") == Target("xn--bcher-kva.example", 443)
    assert parse_target("[0:0::1]:8080") == Target("::1", 8080)
    assert str(parse_target("[::1]:8080")) == "[::1]:8080"
    assert parse_target("example.com", default_port=80) == Target("example.com", 80)
    assert allow_list(["Example.COM:443", "example.com.:443"]) == {Target("example.com", 443)}


@pytest.mark.parametrize(
    "entry",
    ["example.com", "example.com:0", "example.com:70000", "example.com:\uff18\uff10", "::1:80",
     "[example.com]:80", "a..b:80", "exa mple.com:80", "user@host:80", ""],
)  # fmt: skip
def test_malformed_entries_are_refused(entry: str) -> None:
    with pytest.raises(ValueError):
        allow_list([entry])


@pytest.mark.parametrize("entry", ["*", "*:443", "*.openai.com:443"])
def test_wildcards_are_not_an_allow_list(entry: str) -> None:
    with pytest.raises(ValueError, match="wildcards are not supported"):
        allow_list([entry])


# -- the socket -----------------------------------------------------------------------


def test_socket_is_private_and_a_stale_one_is_replaced(sock_dir: Path) -> None:
    path = sock_dir / "egress.sock"

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as crashed:
        crashed.bind(str(path))  # what a run that died without cleaning up leaves

    async def scenario() -> None:
        async with EgressProxy(path, [], session_id="s1"):
            assert stat.S_IMODE(path.lstat().st_mode) == 0o600
            client = await HttpClient.open(path)
            assert (await client.request("GET", "http://example.com/")).status == 403
            client.close()
        assert not path.exists()

    run(scenario())


def test_a_non_socket_in_the_way_is_not_removed(sock_dir: Path) -> None:
    path = sock_dir / "egress.sock"
    path.write_text("not a socket")
    with pytest.raises(FileExistsError):
        run(EgressProxy(path, [], session_id="s1").start())
    assert path.read_text() == "not a socket"


# -- CONNECT --------------------------------------------------------------------------


def test_connect_tunnels_both_ways_to_an_allowed_host(sock_dir: Path) -> None:
    path = sock_dir / "egress.sock"

    async def scenario() -> None:
        async with proxied(path, echo) as (_, upstream):
            reader, writer, head = await connect_tunnel(path, upstream.authority)
            assert head.startswith(b"HTTP/1.1 200")
            for message in (b"hello", b"x" * 200_000):
                writer.write(message)
                await writer.drain()
                assert await reader.readexactly(len(message)) == message
            writer.write_eof()  # a half-close reaches the upstream, whose close comes back
            assert await reader.read() == b""
            writer.close()
            assert upstream.accepted == 1

    run(scenario())


def test_connect_to_a_host_not_listed_is_refused_without_connecting(
    sock_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = sock_dir / "egress.sock"

    async def scenario() -> None:
        async with (
            listening(echo) as forbidden,
            proxied(path, echo, session_id="s-refused") as (_, allowed),
        ):
            reader, writer = await asyncio.open_unix_connection(path)
            writer.write(f"CONNECT {forbidden.authority} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            status, body = await raw_answer(reader)
            writer.close()
            assert status == 403
            assert forbidden.authority.encode() in body and b"allow_hosts" in body
            # The proxy serves in order: once this tunnel works, the refusal is long done.
            reader, writer, head = await connect_tunnel(path, allowed.authority)
            assert head.startswith(b"HTTP/1.1 200")
            writer.close()
            await wait_for(lambda: allowed.accepted == 1)
        assert forbidden.accepted == 0

    with caplog.at_level(logging.WARNING, logger="oqto.sandbox.egress"):
        run(scenario())
    refusals = [r for r in caplog.records if r.getMessage() == "egress refused"]
    assert len(refusals) == 1
    assert refusals[0].__dict__["session"] == "s-refused"


def test_close_ends_open_tunnels(sock_dir: Path) -> None:
    path = sock_dir / "egress.sock"

    async def scenario() -> None:
        async with listening(echo) as upstream:
            proxy = EgressProxy(path, [upstream.authority], session_id="s1")
            await proxy.start()
            tunnels = [await connect_tunnel(path, upstream.authority) for _ in range(3)]
            assert proxy.open_connections == 3
            await proxy.close()
            for reader, writer, _ in tunnels:
                assert await reader.read() == b""
                writer.close()
            await wait_for(lambda: len(upstream.closed) == 3)  # the upstream side closed too
            assert proxy.open_connections == 0
            assert not path.exists()

    run(scenario())


def test_a_tunnel_idle_in_both_directions_is_closed(sock_dir: Path) -> None:
    path = sock_dir / "egress.sock"
    limits = EgressLimits(idle_timeout=0.3)

    async def scenario() -> None:
        async with proxied(path, echo, limits=limits) as (_, upstream):
            reader, writer, _ = await connect_tunnel(path, upstream.authority)
            began = asyncio.get_running_loop().time()
            assert await reader.read() == b""
            assert asyncio.get_running_loop().time() - began >= 0.3
            writer.close()

    run(scenario())


# -- absolute-form --------------------------------------------------------------------


def test_absolute_form_keep_alive_each_request_checked(sock_dir: Path) -> None:
    path = sock_dir / "egress.sock"

    async def scenario() -> None:
        async with proxied(path, origin) as (_, upstream):
            client = await HttpClient.open(path)
            base = f"http://{upstream.authority}"
            got = await client.request(
                "GET",
                f"{base}/v1/models?x=1",
                headers=[
                    ("proxy-authorization", "Basic c2VjcmV0"),
                    ("proxy-connection", "keep-alive"),
                    ("connection", "keep-alive, x-private"),
                    ("x-private", "hop"),
                    ("x-kept", "end-to-end"),
                ],
            )
            assert got.status == 200
            seen = got.json()
            assert seen["method"] == "GET" and seen["target"] == "/v1/models?x=1"
            names = [name for name, _ in seen["headers"]]
            assert ["host", upstream.authority] in seen["headers"]
            assert "x-kept" in names
            assert not {"proxy-authorization", "proxy-connection", "x-private"} & set(names)
            # The origin's hop-by-hop headers stop at the proxy too.
            assert "x-hop" not in got.headers and "keep-alive" not in got.headers

            posted = await client.request(
                "POST", f"{base}/v1/chat/completions", body=[b'{"prompt": "hi"}']
            )
            assert posted.status == 200 and posted.json()["body"] == '{"prompt": "hi"}'
            assert upstream.accepted == 1  # both went over one upstream connection

            refused = await client.request("GET", "http://127.0.0.1:9/other")
            assert refused.status == 403 and b"127.0.0.1:9" in refused.body
            assert await client.closed()
            client.close()

    run(scenario())


def test_chunked_upload_reaches_the_origin_whole(sock_dir: Path) -> None:
    path = sock_dir / "egress.sock"
    parts = [b"first-", b"x" * 100_000, b"-last"]

    async def scenario() -> None:
        async with proxied(path, origin) as (_, upstream):
            client = await HttpClient.open(path)
            got = await client.request(
                "PUT",
                f"http://{upstream.authority}/upload",
                headers=[("transfer-encoding", "chunked")],
                body=parts,
            )
            client.close()
            assert got.status == 200
            seen = got.json()
            assert seen["body"] == b"".join(parts).decode()
            assert ["transfer-encoding", "chunked"] in seen["headers"]

    run(scenario())


def test_a_client_waiting_for_100_continue_gets_it_from_the_proxy(sock_dir: Path) -> None:
    path = sock_dir / "egress.sock"

    async def scenario() -> None:
        async with proxied(path, origin) as (_, upstream):
            reader, writer = await asyncio.open_unix_connection(path)
            head = (
                f"POST http://{upstream.authority}/up HTTP/1.1\r\nHost: {upstream.authority}\r\n"
                "Expect: 100-continue\r\nContent-Length: 4\r\n\r\n"
            )
            writer.write(head.encode())
            assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 100")
            writer.write(b"body")
            client = HttpClient(reader, writer)
            # h11 reads a response only after a request of its own; this one is never sent.
            client.conn.send(h11.Request(method="POST", target="/", headers=[("host", "x")]))
            got = await client.answer()
            writer.close()
            assert got.status == 200 and got.json()["body"] == "body"
            assert "expect" not in [name for name, _ in got.json()["headers"]]

    run(scenario())


def test_origin_form_and_https_urls_are_not_proxied(sock_dir: Path) -> None:
    path = sock_dir / "egress.sock"

    async def scenario() -> None:
        async with EgressProxy(path, ["example.com:443"], session_id="s1"):
            for target in ("/v1/models", "https://example.com/"):
                client = await HttpClient.open(path)
                got = await client.request("GET", target)
                client.close()
                assert got.status == 400, target

    run(scenario())


# -- bounds and failures --------------------------------------------------------------


def test_a_request_head_above_the_bound_is_431(sock_dir: Path) -> None:
    path = sock_dir / "egress.sock"
    limits = EgressLimits(max_head_bytes=4096)

    async def scenario() -> None:
        async with EgressProxy(path, ["example.com:80"], session_id="s1", limits=limits):
            reader, writer = await asyncio.open_unix_connection(path)
            writer.write(b"GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n")
            writer.write(b"X-Big: " + b"a" * 8192 + b"\r\n\r\n")
            await writer.drain()
            status, _ = await raw_answer(reader)
            writer.close()
            assert status == 431
            # A head that never ends is cut off at the bound as well.
            reader, writer = await asyncio.open_unix_connection(path)
            writer.write(b"GET http://example.com/ HTTP/1.1\r\nX-Endless: ")
            writer.write(b"a" * 8192)
            await writer.drain()
            status, _ = await raw_answer(reader)
            writer.close()
            assert status == 431

    run(scenario())


def test_connections_above_the_cap_are_refused(sock_dir: Path) -> None:
    path = sock_dir / "egress.sock"
    limits = EgressLimits(max_connections=2)

    async def scenario() -> None:
        async with (
            listening(echo) as upstream,
            EgressProxy(path, [upstream.authority], session_id="s1", limits=limits) as proxy,
        ):
            first = await connect_tunnel(path, upstream.authority)
            second = await connect_tunnel(path, upstream.authority)
            reader, writer = await asyncio.open_unix_connection(path)
            status, body = await raw_answer(reader)
            writer.close()
            assert status == 503 and b"at most 2" in body
            first[1].close()
            await wait_for(lambda: proxy.open_connections == 1)
            third = await connect_tunnel(path, upstream.authority)
            assert third[2].startswith(b"HTTP/1.1 200")
            for _, w, _ in (second, third):
                w.close()

    run(scenario())


def test_a_name_that_does_not_resolve_is_502(sock_dir: Path) -> None:
    path = sock_dir / "egress.sock"
    name = "no-such-host.invalid"  # RFC 6761: never resolves

    async def scenario() -> None:
        async with EgressProxy(path, [f"{name}:80", f"{name}:443"], session_id="s1"):
            client = await HttpClient.open(path)
            got = await client.request("GET", f"http://{name}/")
            client.close()
            assert got.status == 502 and f"cannot resolve {name}".encode() in got.body
            reader, writer = await asyncio.open_unix_connection(path)
            writer.write(f"CONNECT {name}:443 HTTP/1.1\r\nHost: {name}:443\r\n\r\n".encode())
            status, body = await raw_answer(reader)
            writer.close()
            assert status == 502 and b"cannot resolve" in body

    run(scenario())


def test_a_closed_port_is_502(sock_dir: Path) -> None:
    path = sock_dir / "egress.sock"

    async def scenario() -> None:
        async with listening(echo) as gone:
            authority = gone.authority
        async with EgressProxy(path, [authority], session_id="s1"):
            client = await HttpClient.open(path)
            got = await client.request("GET", f"http://{authority}/")
            client.close()
            assert got.status == 502 and b"cannot connect" in got.body

    run(scenario())


def test_a_client_that_hangs_up_mid_answer_ends_the_upstream_request(sock_dir: Path) -> None:
    """An aborted agent turn closes opencode's connection to the proxy while the model is
    still thinking: the model's request must end then (a paid model bills until it does),
    not when the model next sends a byte, or at the idle timeout."""
    path = sock_dir / "egress.sock"
    hung_up = asyncio.Event()

    async def thinking(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"GET /v1/stream ")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\ndata: 1\n\n")
        await writer.drain()
        # Says nothing more; only the proxy closing its side ends this.
        assert await reader.read(1) == b""
        hung_up.set()

    async def scenario() -> None:
        async with proxied(path, thinking) as (_, upstream):
            reader, writer = await asyncio.open_unix_connection(path)
            writer.write(
                f"GET http://{upstream.authority}/v1/stream HTTP/1.1\r\n"
                f"host: {upstream.authority}\r\n\r\n".encode()
            )
            await writer.drain()
            assert b"data: 1" in await reader.readuntil(b"data: 1\n\n")
            writer.close()
            async with asyncio.timeout(10):
                await hung_up.wait()

    run(scenario())
