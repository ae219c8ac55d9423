"""Our HTTP/1.1 client, on connections an *opener* hands over (`oqto.sockclient`): a
socket the user's runner passed, or one we opened and proved is served by the session's
account. Nothing here resolves a host or a path, so a request never goes to a listener
the opener did not vouch for.

Used by the control plane's data plane (`control.proxy`), which relays every proxied
request through it, and by the user plane's readiness probes and warm-up (`fetch`), so
that opencode's password only ever goes to a listener owned by the session's account.

It is our own, on asyncio protocols with llhttp (httptools) parsing the answers, because
the proxy's cost per request is the product's hot path: a general HTTP client (httpx
measured ~3 ms per request here, most of it pool bookkeeping) builds request and response
objects we would only take apart again. A connection hands the raw status and headers up
and streams the body with flow control both ways: the upstream is paused while
`READ_HIGH_WATER` bytes wait for a slow client, and a request body is written no faster
than the service reads it.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import socket
import time
import typing
from collections.abc import Awaitable, Callable

import httptools

from oqto.protocol.errors import ErrorCode
from oqto.sockclient import OpenerError, adopt

# Connecting (the user plane's opener included) and waiting for a free connection are
# bounded; so is each wait for a service to take more of a request body (with
# asyncio.timeout, not wait_for: on Python 3.11 wait_for loses a cancellation that comes
# as the awaited thing completes). Reads have no timeout: SSE streams and long agent
# turns are legitimately quiet for long stretches.
CONNECT_TIMEOUT = 5.0
POOL_TIMEOUT = 10.0
WRITE_TIMEOUT = 60.0
# Per session service. A browser opens a handful; this bounds what one session's traffic
# can hold of the control plane's file descriptors.
MAX_CONNECTIONS = 256
MAX_IDLE = 32
# Below the keep-alive timeouts of the services (uvicorn 5 s, Bun 10 s), so a pooled
# connection is rarely closed by the service just as a request goes out.
IDLE_SECONDS = 4.0
READ_HIGH_WATER = 512 * 1024
# A session's service is its user's to control: an answer whose status line and headers
# go on for longer than this is refused, so endless headers cannot fill our memory
# (llhttp itself sets no limit).
MAX_HEAD_BYTES = 64 * 1024
WRITE_HIGH_WATER = 256 * 1024


class UpstreamError(Exception):
    """The request could not be relayed; `code` says which error the client gets."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class UpstreamClosed(UpstreamError):
    """The connection ended before the answer did. `answered` tells whether any of the
    answer had arrived (if not, a request without a body may be retried)."""

    def __init__(self, message: str, answered: bool) -> None:
        super().__init__(ErrorCode.UPSTREAM_UNAVAILABLE, message)
        self.answered = answered


class Connection(asyncio.Protocol):
    """One keep-alive connection: a request head and body go out, one answer comes in."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._lost: BaseException | None = None
        self._write_paused = False
        self._drained: asyncio.Future[bool] | None = None
        self._reset(head_only=False)

    def _reset(self, head_only: bool) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._head_only = head_only
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self._head: asyncio.Future[None] = self._loop.create_future()
        self._chunks: collections.deque[bytes] = collections.deque()
        self._buffered = 0
        self._reading_paused = False
        self._framed = False  # content-length or chunked: the end is not the connection's
        self._keep_alive = False
        self._head_bytes = 0
        self.complete = False
        self._waiter: asyncio.Future[bool] | None = None
        self._ended: str | None = None  # why the consumer stopped waiting (revoked...)

    # -- driven by the request side ------------------------------------------------------

    def begin(self, head: bytes, *, head_only: bool) -> None:
        """Send a request head; the answer will be parsed afresh."""
        self._reset(head_only)
        self._write(head)

    def _write(self, data: bytes) -> None:
        if self.closed or self.transport is None:
            raise UpstreamClosed("the connection to the service closed", answered=False)
        self.transport.write(data)

    async def write(self, data: bytes) -> None:
        self._write(data)
        if self._write_paused:
            self._drained = self._loop.create_future()
            try:
                async with asyncio.timeout(WRITE_TIMEOUT):
                    await self._drained
            except TimeoutError:
                raise UpstreamError(
                    ErrorCode.UPSTREAM_TIMEOUT, "the service stopped reading the request body"
                ) from None

    @property
    def answered(self) -> bool:
        """The answer's status and headers are in."""
        return self._head.done() and self._head.exception() is None

    async def answer(self) -> None:
        """Wait for the answer's status and headers."""
        await self._head

    async def read(self, idle: float | None = None) -> bytes | None:
        """The body bytes that have arrived (all of them, joined), waiting for some if
        none have; b"" once the body is over; None if `idle` seconds passed without any.
        Raises UpstreamClosed if the connection ends before the body does."""
        while not self._chunks:
            if self.complete or self._ended is not None:
                return b""
            if self._lost is not None:
                raise UpstreamClosed("the service closed the connection mid-answer", True)
            waiter = self._waiter = self._loop.create_future()
            # The timer wakes the reader with False, everything else with True.
            timer = self._loop.call_later(idle, _wake, waiter) if idle is not None else None
            try:
                if not await waiter:
                    return None
            finally:
                self._waiter = None
                if timer is not None:
                    timer.cancel()
        data = self._chunks.popleft() if len(self._chunks) == 1 else b"".join(self._chunks)
        self._chunks.clear()
        self._buffered = 0
        if self._reading_paused and self.transport is not None and not self.closed:
            self._reading_paused = False
            self.transport.resume_reading()
        return data

    def end(self, why: str) -> None:
        """Stop the answer early (the sign-in ended, the client went away): the reader
        sees the body as over, and the connection is not reused."""
        if self._ended is None:
            self._ended = why
        self.close()
        _wake(self._waiter, True)

    @property
    def ended(self) -> str | None:
        return self._ended

    @property
    def reusable(self) -> bool:
        return (
            self.complete
            and self._ended is None
            and not self.closed
            and not self._head_only
            and self._keep_alive
        )

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.close()
        self.closed = True

    # -- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = typing.cast(asyncio.Transport, transport)
        self.transport.set_write_buffer_limits(high=WRITE_HIGH_WATER)

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(UpstreamClosed(f"the service answered with broken HTTP: {exc}", True))
            return
        if not self._head.done():
            # Interim answers and the head so far; bytes of a body never get here.
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._fail(UpstreamClosed("the service's answer head is too large", True))

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._head.done() and not self._framed and not self._head_only:
            self.complete = True  # an answer without framing ends with the connection
        self._fail(UpstreamClosed("the service closed the connection", self._head.done()))
        _wake(self._drained, True)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        _wake(self._drained, True)

    def _fail(self, exc: UpstreamClosed) -> None:
        if self._lost is None:
            self._lost = exc
        if not self._head.done():
            self._head.set_exception(exc)
            self._head.exception()  # retrieved: a request nobody waits for is not an error
        self.close()
        _wake(self._waiter, True)

    # -- httptools callbacks -------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if 100 <= status < 200:
            self.headers = []  # an interim answer (100 Continue): the real one follows
            return
        self.status = status
        # Asked now: llhttp's answer changes once the message is complete.
        self._keep_alive = self._parser.should_keep_alive()
        self._framed = status in (204, 304) or any(
            n.lower() in (b"content-length", b"transfer-encoding") for n, _ in self.headers
        )
        if self._head_only:
            # llhttp cannot be told the answer is to a HEAD: take the head, drop the link.
            self.complete = True
        self._head.set_result(None)

    def on_body(self, body: bytes) -> None:
        if self._head_only:
            return
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > READ_HIGH_WATER and not self._reading_paused:
            self._reading_paused = True
            assert self.transport is not None
            self.transport.pause_reading()
        _wake(self._waiter, True)

    def on_message_complete(self) -> None:
        if self.status:
            self.complete = True
            _wake(self._waiter, True)


def _wake(waiter: asyncio.Future[bool] | None, value: bool = False) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(value)


class UpstreamPool:
    """The connections to one session service. `authorization` is the service's own
    credential (opencode's Basic password), sent with every request."""

    def __init__(
        self,
        opener: Callable[[], Awaitable[socket.socket]],
        host: bytes,
        authorization: bytes | None = None,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self._opener = opener
        self.host = host
        self.authorization = authorization
        self._max = max_connections
        self._idle: list[Connection] = []
        self._all: set[Connection] = set()
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._closed = False

    async def acquire(self, *, fresh: bool = False) -> tuple[Connection, bool]:
        """A connection and whether it was used before (a reused one may turn out to be
        closed by the service just now). `fresh`: a new one."""
        deadline = time.monotonic() + POOL_TIMEOUT
        while True:
            if self._closed:
                raise UpstreamError(ErrorCode.SESSION_NOT_RUNNING, "the session is stopping")
            if not fresh:
                idle = self._take_idle()
                if idle is not None:
                    return idle, True
            if len(self._all) < self._max:
                return await self._connect(), False
            await self._wait_for_release(deadline)

    def _take_idle(self) -> Connection | None:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed and now - conn.idle_since < IDLE_SECONDS:
                return conn
            self._discard(conn)
        return None

    async def _wait_for_release(self, deadline: float) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                await waiter
        except TimeoutError:
            raise UpstreamError(
                ErrorCode.UPSTREAM_TIMEOUT, f"all {self._max} connections to the service are busy"
            ) from None
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)

    async def _connect(self) -> Connection:
        conn = Connection()
        self._all.add(conn)
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                sock = await self._opener()
        except TimeoutError:
            self._discard(conn)
            raise UpstreamError(ErrorCode.UPSTREAM_TIMEOUT, "connecting took too long") from None
        except OpenerError as exc:
            self._discard(conn)
            raise UpstreamError(exc.code, exc.message) from None
        except OSError as exc:
            self._discard(conn)
            raise UpstreamError(ErrorCode.UPSTREAM_UNAVAILABLE, f"not reachable: {exc}") from None
        try:
            await adopt(sock, lambda: conn)
        except OSError as exc:
            self._discard(conn)
            raise UpstreamError(ErrorCode.UPSTREAM_UNAVAILABLE, f"not reachable: {exc}") from None
        return conn

    async def request(
        self,
        head: bytes,
        *,
        head_only: bool = False,
        body: Callable[[Connection], Awaitable[None]] | None = None,
    ) -> Connection:
        """Send a request (`body` writes its body, if it has one) and wait for the
        answer's head; the connection is then the caller's to read and `release`. A
        request without a body that meets a pooled connection the service has just
        closed is sent once more on a new one."""
        fresh = False
        while True:
            conn, reused = await self.acquire(fresh=fresh)
            try:
                conn.begin(head, head_only=head_only)
                if body is not None:
                    await body(conn)
                await conn.answer()
                return conn
            except UpstreamClosed as exc:
                self.release(conn)
                if reused and body is None and not exc.answered:
                    fresh = True
                    continue
                raise
            except BaseException:
                self.release(conn)
                raise

    def release(self, conn: Connection) -> None:
        """Done with `conn`: back to the pool if it can carry another request."""
        if conn.reusable and not self._closed and len(self._idle) < MAX_IDLE:
            conn.idle_since = time.monotonic()
            self._idle.append(conn)
            self._wake_one()
        else:
            self._discard(conn)

    def _discard(self, conn: Connection) -> None:
        """Its place is free (a failed connect's too): a waiting request may take it."""
        conn.close()
        self._all.discard(conn)
        self._wake_one()

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                break

    def close(self) -> None:
        """Every connection, busy or idle: the session is stopping."""
        self._closed = True
        for conn in list(self._all):
            conn.end("the session stopped")
        self._all.clear()
        self._idle.clear()


def basic_authorization(username: str, password: str) -> bytes:
    """The value of an Authorization header for HTTP Basic (opencode's password)."""
    return b"Basic " + base64.b64encode(f"{username}:{password}".encode())


async def fetch(pool: UpstreamPool, path: str) -> int:
    """`GET path` with the pool's credential: the answer's status, once all of it is in
    (the body is read and dropped). The caller bounds the wait; a cancelled request's
    connection is not reused."""
    head = b"GET %s HTTP/1.1\r\nhost: %s\r\n" % (path.encode(), pool.host)
    if pool.authorization is not None:
        head += b"authorization: %s\r\n" % pool.authorization
    conn = await pool.request(head + b"\r\n")
    try:
        while await conn.read():
            pass
    finally:
        pool.release(conn)
    return conn.status
