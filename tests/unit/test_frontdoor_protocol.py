"""The front door's limits against a real uvicorn (in a thread) serving a tiny app: header
size on first and keep-alive requests, the header deadline, connections per client (plain
and upgraded to WebSocket) and the WebSocket message bound."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import uvicorn
import websockets.sync.client
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect
from tests.support.server import wait_for

from oqto.config.model import ServerSection
from oqto.control.frontdoor import FrontDoorProtocol, uvicorn_config


async def hello(_request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            await websocket.send_bytes(await websocket.receive_bytes())
    except WebSocketDisconnect:
        pass


APP = Starlette(routes=[Route("/", hello), WebSocketRoute("/ws", echo)])


class Running:
    def __init__(self, config: uvicorn.Config, port: int) -> None:
        self.config = config
        self.port = port

    @property
    def counts(self) -> dict[str, int]:
        protocol = self.config.http_protocol_class
        assert issubclass(protocol, FrontDoorProtocol)
        return protocol.open_per_client

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)


@contextmanager
def frontdoor(**server: Any) -> Iterator[Running]:
    config = uvicorn_config(APP, ServerSection(**server))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_for(lambda: srv.started, 10, "uvicorn to start")
        yield Running(config, sock.getsockname()[1])
    finally:
        srv.should_exit = True
        thread.join(15)
        sock.close()
        assert not thread.is_alive(), "uvicorn did not stop"


def read_until_closed(sock: socket.socket, timeout: float = 10) -> bytes:
    """Everything the server sends until it closes the connection (fails on a deadline)."""
    deadline = time.monotonic() + timeout
    data = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"server kept the connection open; got {data!r}")
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def read_response(sock: socket.socket) -> bytes:
    """One response with a Content-Length body, leaving the connection open."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed after {data!r}"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = int(
        next(li for li in head.split(b"\r\n") if li.lower().startswith(b"content-length")).split(
            b":"
        )[1]
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def error_of(response: bytes) -> tuple[int, str]:
    head, body = response.split(b"\r\n\r\n", 1)
    status = int(head.split(b" ")[1])
    return status, json.loads(body)["error"]


def get(extra_header: bytes = b"") -> bytes:
    return b"GET / HTTP/1.1\r\nHost: t\r\n" + extra_header + b"\r\n"


def test_config_carries_the_server_section() -> None:
    config = uvicorn_config(
        APP,
        ServerSection(
            ws_max_message_bytes=65536, keepalive_timeout_seconds=2.5, max_header_bytes=4096
        ),
    )
    assert config.ws_max_size == 65536
    assert config.timeout_keep_alive == 2.5
    assert config.server_header is False
    assert config.proxy_headers is False
    assert isinstance(config.http, type) and issubclass(config.http, FrontDoorProtocol)
    assert config.http.limits.max_header_bytes == 4096
    # Each server gets its own counts: two configs never share a client's tally.
    other = uvicorn_config(APP, ServerSection())
    assert isinstance(other.http, type) and issubclass(other.http, FrontDoorProtocol)
    assert other.http.open_per_client is not config.http.open_per_client


def test_oversize_headers_get_431_on_first_and_keepalive_requests() -> None:
    with frontdoor(max_header_bytes=2048) as door:
        with door.connect() as sock:
            fits = get(b"X-Pad: " + b"a" * (2048 - len(get()) - 9) + b"\r\n")
            assert len(fits) == 2048
            sock.sendall(fits)
            assert read_response(sock).startswith(b"HTTP/1.1 200")
            sock.sendall(get(b"X-Pad: " + b"a" * 4096 + b"\r\n"))
            assert error_of(read_until_closed(sock)) == (431, "header_too_large")
        # Trickled in small pieces, the sum is what counts.
        with door.connect() as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n")
            try:
                for _ in range(40):
                    sock.sendall(b"X-Pad: " + b"b" * 93 + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass  # closed as soon as the limit was crossed
            assert error_of(read_until_closed(sock)) == (431, "header_too_large")
        with door.connect() as sock:  # still serving
            sock.sendall(get())
            assert read_response(sock).endswith(b"ok")
        wait_for(lambda: door.counts == {}, 10, "every connection to release its slot")


def test_incomplete_headers_are_cut_off_after_the_deadline() -> None:
    with frontdoor(header_timeout_seconds=0.5) as door:
        with door.connect() as partial, door.connect() as silent:
            started = time.monotonic()
            partial.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ")
            assert error_of(read_until_closed(partial)) == (408, "header_timeout")
            assert error_of(read_until_closed(silent)) == (408, "header_timeout")
            assert 0.4 <= time.monotonic() - started < 5
        # Bytes trickling in do not extend the deadline.
        with door.connect() as sock:
            started = time.monotonic()
            sock.sendall(b"GET / HTTP/1.1\r\n")
            sock.settimeout(0.05)  # paces the trickle; the loop ends on the server's answer
            answer = b""
            while not answer and time.monotonic() - started < 5:
                try:
                    sock.sendall(b"X")
                    answer = sock.recv(65536)
                except TimeoutError:
                    continue
            assert error_of(answer + read_until_closed(sock)) == (408, "header_timeout")
            assert time.monotonic() - started < 2
        # The deadline is per request: a keep-alive request trickled slowly is cut off too.
        with door.connect() as sock:
            sock.sendall(get())
            assert read_response(sock).endswith(b"ok")
            sock.sendall(b"GET / HTTP/1.1\r\n")
            assert error_of(read_until_closed(sock)) == (408, "header_timeout")


def test_idle_keepalive_connection_closes_after_the_configured_time() -> None:
    with (
        frontdoor(keepalive_timeout_seconds=0.5, header_timeout_seconds=30) as door,
        door.connect() as sock,
    ):
        sock.sendall(get())
        assert read_response(sock).endswith(b"ok")
        idle_from = time.monotonic()
        assert read_until_closed(sock) == b""
        assert 0.4 <= time.monotonic() - idle_from < 3


def test_connections_per_client_are_capped_and_released() -> None:
    with frontdoor(max_connections_per_client=3) as door:
        held = [door.connect() for _ in range(3)]
        for sock in held:
            sock.sendall(get())
            assert read_response(sock).endswith(b"ok")
        with door.connect() as extra:
            extra.sendall(get())
            refused = read_until_closed(extra)
            assert error_of(refused) == (429, "too_many_connections")
            assert b"\r\nretry-after: 1\r\n" in refused.lower()
        held.pop().close()
        wait_for(lambda: door.counts.get("127.0.0.1") == 2, 10, "the closed slot to free")
        with door.connect() as again:
            again.sendall(get())
            assert read_response(again).endswith(b"ok")
        for sock in held:
            sock.close()
        wait_for(lambda: door.counts == {}, 10, "every slot to free")


def test_trusted_proxy_is_not_capped() -> None:
    with frontdoor(max_connections_per_client=1, trusted_proxies=["127.0.0.0/8"]) as door:
        socks = [door.connect() for _ in range(3)]
        try:
            for sock in socks:
                sock.sendall(get())
                assert read_response(sock).endswith(b"ok")
            assert door.counts == {}
        finally:
            for sock in socks:
                sock.close()


def test_websocket_keeps_its_slot_until_it_closes() -> None:
    with frontdoor(max_connections_per_client=2) as door:
        url = f"ws://127.0.0.1:{door.port}/ws"
        with (
            websockets.sync.client.connect(url) as first,
            websockets.sync.client.connect(url) as second,
        ):
            second.send(b"ping")
            assert second.recv(timeout=10) == b"ping"
            with door.connect() as extra:
                extra.sendall(get())
                assert error_of(read_until_closed(extra)) == (429, "too_many_connections")
            first.close()
            wait_for(lambda: door.counts.get("127.0.0.1") == 1, 10, "the WebSocket's slot")
        wait_for(lambda: door.counts == {}, 10, "every slot to free")


def test_websocket_message_above_the_limit_is_refused_with_1009() -> None:
    with (
        frontdoor(ws_max_message_bytes=4096) as door,
        websockets.sync.client.connect(f"ws://127.0.0.1:{door.port}/ws") as ws,
    ):
        ws.send(b"x" * 4096)
        assert ws.recv(timeout=10) == b"x" * 4096
        ws.send(b"x" * 4097)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            ws.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
