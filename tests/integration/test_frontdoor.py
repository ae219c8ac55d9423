"""The front door of a real `oqto serve`, attacked without credentials: huge headers,
slowloris, many connections from one client. (The WebSocket message bound is checked in
tests/unit/test_frontdoor_protocol.py against the same uvicorn settings: reaching an authenticated
WebSocket here would need a running session.)"""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.support.server import OqtoServer, wait_for

HEADER_TIMEOUT = 1.0
MAX_CONNECTIONS = 8


@pytest.fixture(scope="module")
def door(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OqtoServer]:
    srv = OqtoServer(
        tmp_path_factory.mktemp("frontdoor"),
        env={
            "OQTO_SERVER__HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
            "OQTO_SERVER__MAX_CONNECTIONS_PER_CLIENT": str(MAX_CONNECTIONS),
            # Long enough that held keep-alive connections stay open through a test.
            "OQTO_SERVER__KEEPALIVE_TIMEOUT_SECONDS": "60",
        },
    ).start()
    try:
        yield srv
    finally:
        assert srv.stop() == 0, srv.log()[-4000:]


def connect(srv: OqtoServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", srv.port), timeout=10)


def read_until_closed(sock: socket.socket, timeout: float = 10) -> bytes:
    """What the server sends until it closes; fails if it keeps the connection open."""
    deadline = time.monotonic() + timeout
    data = b""
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            return data
        data += chunk
    raise AssertionError(f"server kept the connection open after {timeout:g} s; got {data!r}")


def error_of(response: bytes) -> tuple[int, str]:
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 "), response[:200]
    return int(head.split(b" ")[1]), str(json.loads(body)["error"])


def health(sock: socket.socket) -> bytes:
    """One keep-alive GET /api/health on `sock`; returns the response head."""
    sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: t\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed after {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    while len(body) < length:
        body += sock.recv(65536)
    return head


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def send_huge_header(srv: OqtoServer, size: int) -> bytes:
    """Stream a `size`-byte header value; stop as soon as the server answers."""
    with connect(srv) as sock:
        sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: t\r\nX-Big: ")
        piece = b"a" * 65536
        sent = 0
        while sent < size:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
        return read_until_closed(sock)


def test_huge_header_gets_431_fast_and_memory_stays_flat(door: OqtoServer) -> None:
    assert door.proc is not None
    before = rss_bytes(door.proc.pid)
    for _ in range(5):
        started = time.monotonic()
        response = send_huge_header(door, 1 << 20)
        assert error_of(response) == (431, "header_too_large")
        assert time.monotonic() - started < 3
    grown = rss_bytes(door.proc.pid) - before
    assert grown < 50 << 20, f"RSS grew by {grown >> 20} MiB"
    assert httpx.get(f"{door.url}/api/health", timeout=10).status_code == 200


def test_slowloris_connections_are_cut_off_after_the_header_timeout(door: OqtoServer) -> None:
    started = time.monotonic()
    slow = [connect(door) for _ in range(MAX_CONNECTIONS - 2)]
    try:
        for i, sock in enumerate(slow):
            sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: t\r\nX-Slow-%d: " % i)
        # Meanwhile the server keeps serving others.
        assert httpx.get(f"{door.url}/api/health", timeout=10).status_code == 200
        for sock in slow:
            assert error_of(read_until_closed(sock)) == (408, "header_timeout")
        assert HEADER_TIMEOUT * 0.8 <= time.monotonic() - started < HEADER_TIMEOUT + 4
    finally:
        for sock in slow:
            sock.close()


def test_trickled_headers_do_not_reset_the_deadline(door: OqtoServer) -> None:
    """One byte every 0.1 s keeps an idle timer alive forever; the header deadline is
    counted from the request's start."""
    with connect(door) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: t\r\n")
        answer = b""
        while time.monotonic() - started < HEADER_TIMEOUT + 5:
            try:
                sock.sendall(b"X")
            except (BrokenPipeError, ConnectionResetError):
                break
            sock.settimeout(0.1)  # paces the trickle; the loop ends on the server's answer
            try:
                answer = sock.recv(65536)
            except TimeoutError:
                continue
            break
        assert answer, "the trickling connection was never cut off"
        assert error_of(answer + read_until_closed(sock)) == (408, "header_timeout")
        assert time.monotonic() - started < HEADER_TIMEOUT + 3


def test_connections_per_client_are_capped(door: OqtoServer) -> None:
    held: list[socket.socket] = []
    try:

        def one_more_is_served() -> bool:
            sock = connect(door)
            head = health(sock) if not select.select([sock], [], [], 0.2)[0] else b""
            if head.startswith(b"HTTP/1.1 200"):
                held.append(sock)
                return True
            sock.close()
            return False

        # Earlier tests' connections may take a moment to be released.
        for _ in range(MAX_CONNECTIONS):
            wait_for(one_more_is_served, 10, "a connection within the cap")
        with connect(door) as extra:
            extra.sendall(b"GET /api/health HTTP/1.1\r\nHost: t\r\n\r\n")
            assert error_of(read_until_closed(extra)) == (429, "too_many_connections")
        for sock in held[:3]:
            sock.close()
        del held[:3]
        # The server notices the closes asynchronously: wait, do not sleep.
        wait_for(one_more_is_served, 10, "a slot freed by closing connections")
        assert len(held) == MAX_CONNECTIONS - 2
    finally:
        for sock in held:
            sock.close()
