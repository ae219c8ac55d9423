"""A WebSocket relayed as bytes: once the control plane has checked the upgrade (Origin,
sign-in, ownership) and the session's service has accepted its own upgrade request, the
two connections are joined, and frames pass end to end as they are, as a dedicated
proxy (configurable-http-proxy, nginx) passes an upgraded connection on.

`SplicingWebSocketProtocol` is uvicorn's WebSocket protocol with one addition: it
advertises the ASGI scope extension `oqto.splice`, and a `websocket.accept` message that
carries an `Upstream` under that key answers the browser with 101 (the service's
subprotocol and extensions) and hands the connection to a `Splice`. A plain accept is
uvicorn's own WebSocket, unchanged.

The control plane still bounds and ends what it relays (`Splice`):
- memory: each direction is paused while the other side's transport holds more than its
  high-water mark, so at most that plus one read is buffered per direction;
- message size: `[server] ws_max_message_bytes` either way (uvicorn's `ws_max_size`),
  from each frame's declared length, before a byte of it is passed on (close 1009);
- ending: a `websocket.close` from the application (a sign-in that ended: 1008) and the
  server's shutdown (1012) put a close frame of our own into the browser's stream at its
  next frame boundary and drop the service's connection; a service that goes away
  without a close frame is reported as 1011.

Pings, pongs and close frames are the two ends' own (ttyd pings every 5 s, so a
vanished browser is noticed there), and no frame is decoded here.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

import httptools
from uvicorn.protocols.utils import ClientDisconnected, get_client_addr, get_path_with_query_string
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request

from oqto.control.proxy.wsframes import MESSAGE_TOO_BIG, FrameScanner, close_frame

log = logging.getLogger(__name__)

SPLICE = "oqto.splice"
# How long a connection we are ending may take to finish its frame or answer our close.
CLOSE_TIMEOUT = 5.0
# The service's answer to the upgrade request, status line and headers.
MAX_ANSWER_BYTES = 16 * 1024
SERVICE_GONE = 1011
RESTARTING = 1012
_REASONS = {1002: "protocol error", MESSAGE_TOO_BIG: "message too big"}


class UpgradeFailed(Exception):
    """The service did not answer the upgrade request with a well-formed head."""


class Answer:
    """The service's answer to an upgrade request: status and headers (names lowercase)."""

    __slots__ = ("headers", "status")

    def __init__(self, status: int, headers: dict[str, list[str]]) -> None:
        self.status = status
        self.headers = headers


class Upstream(asyncio.Protocol):
    """The session service's end: first the answer to our upgrade request, then the
    frames, which go to the `Splice` it is attached to. Reading pauses between the two,
    so what the service sends before the splice begins is at most one read."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.subprotocol: str | None = None
        self.extensions: str | None = None
        # Only until the answer is in: an open terminal holds neither.
        self._parser: httptools.HttpResponseParser | None = httptools.HttpResponseParser(self)
        self._headers: dict[str, list[str]] = {}
        self._head_done = False
        self._head_bytes = 0
        # Until the answer is in (then None, so that nothing keeps it).
        self._answer: asyncio.Future[Answer] | None = asyncio.get_running_loop().create_future()
        self._early = b""  # frames that came with the answer, until the splice takes them
        self._splice: Splice | None = None

    async def upgrade(self, request: Request) -> Answer:
        assert self.transport is not None and self._answer is not None
        answer = self._answer
        self.transport.write(request.serialize())
        return await answer

    def attach(self, splice: Splice) -> None:
        assert self.transport is not None
        self._splice = splice
        early, self._early = self._early, b""
        if early:
            splice.from_upstream(early)
        self.transport.resume_reading()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    # -- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio's, so no isinstance check.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self._splice is not None:
            self._splice.from_upstream(data)
        elif self._answer is None:
            self._early += data  # reading is paused: this is the read that was under way
        else:
            self._read_answer(data)

    def eof_received(self) -> None:
        return None  # a half-close ends the connection

    def connection_lost(self, exc: Exception | None) -> None:
        if self._splice is not None:
            self._splice.upstream_lost()
        elif self._answer is not None:
            self._answer.set_exception(UpgradeFailed("the service closed without answering"))

    def pause_writing(self) -> None:
        if self._splice is not None:
            self._splice.upstream_writable(False)

    def resume_writing(self) -> None:
        if self._splice is not None:
            self._splice.upstream_writable(True)

    # -- the answer ---------------------------------------------------------------------

    def _read_answer(self, data: bytes) -> None:
        """Fed no more than the room left under MAX_ANSWER_BYTES: httptools would hold a
        header of any size in memory."""
        assert self._parser is not None
        room = MAX_ANSWER_BYTES - self._head_bytes
        piece = data[:room]
        self._head_bytes += len(piece)
        try:
            self._parser.feed_data(piece)
        except httptools.HttpParserUpgrade as exc:
            self._answered(piece[exc.args[0] :] + data[room:])
            return
        except httptools.HttpParserError as exc:
            if not self._head_done:
                self._failed(f"not an HTTP answer: {exc}")
                return
        if self._head_done:
            self._answered(b"")  # an answer that is not an upgrade: a refusal
        elif self._head_bytes >= MAX_ANSWER_BYTES:
            self._failed(f"the answer's head exceeds {MAX_ANSWER_BYTES} bytes")

    def _answered(self, early: bytes) -> None:
        assert self.transport is not None and self._parser is not None
        self.transport.pause_reading()
        self._early = early
        answer = Answer(self._parser.get_status_code(), self._headers)
        waiter, self._answer, self._parser, self._headers = self._answer, None, None, {}
        if waiter is not None:
            waiter.set_result(answer)

    def _failed(self, why: str) -> None:
        assert self.transport is not None
        self.transport.abort()
        waiter, self._answer = self._answer, None
        if waiter is not None:
            waiter.set_exception(UpgradeFailed(why))

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))

    def on_headers_complete(self) -> None:
        self._head_done = True


class Splice:
    """The bytes of one browser connection and one service connection, both ways."""

    def __init__(
        self,
        browser: asyncio.Transport,
        upstream: Upstream,
        max_message: int,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        assert upstream.transport is not None
        self._browser = browser
        self._upstream = upstream
        self._service = upstream.transport
        self._loop = loop
        self._down = FrameScanner(max_message, masked=False)  # service -> browser
        self._up = FrameScanner(max_message, masked=True)  # browser -> service
        self._ending: tuple[int, str] | None = None  # the close we put in, once it may go
        self._closing = False  # ours is sent (or the service's went): the browser hangs up
        self._service_gone = False
        self._timer: asyncio.TimerHandle | None = None
        upstream.attach(self)

    @property
    def buffered(self) -> int:
        """Bytes held in our two write buffers."""
        return self._browser.get_write_buffer_size() + self._service.get_write_buffer_size()

    @property
    def reading(self) -> tuple[bool, bool]:
        """Whether we read from the browser, and from the service (backpressure)."""
        return self._browser.is_reading(), self._service.is_reading()

    # -- bytes --------------------------------------------------------------------------

    def from_upstream(self, data: bytes) -> None:
        if self._closing:
            return
        held, end, problem = self._down.scan(data, frames=self._ending is None)
        _write(self._browser, held, data, end)
        if problem:
            log.warning("websocket: a frame from the service is refused (%s)", problem)
            self.end(problem, _REASONS[problem])
        elif self._ending is not None and self._down.at_boundary:
            self._send_close()

    def from_browser(self, data: bytes) -> None:
        if self._ending is not None or self._closing:
            return  # a connection we end sends nothing more to the service
        held, end, problem = self._up.scan(data)
        _write(self._service, held, data, end)
        if problem:
            log.info("websocket: a frame from the browser is refused (%s)", problem)
            self.end(problem, _REASONS[problem])

    def upstream_writable(self, writable: bool) -> None:
        _set_reading(self._browser, writable and not self._closing)

    def browser_writable(self, writable: bool) -> None:
        _set_reading(self._service, writable)

    # -- ending -------------------------------------------------------------------------

    def end(self, code: int, reason: str) -> None:
        """Close the browser's side with `code` once its stream is at a frame boundary,
        and drop the service's connection."""
        if self._ending is not None or self._closing:
            return
        self._ending = (code, reason)
        if self._down.at_boundary:
            self._send_close()
        elif self._service_gone:
            self._browser.abort()  # the rest of the frame will never come
        else:
            self._timer = self._loop.call_later(CLOSE_TIMEOUT, self._browser.abort)

    def upstream_lost(self) -> None:
        self._service_gone = True
        if self._closing:
            return
        if self._down.closed and self._down.at_boundary:
            self._hang_up()  # the service's close frame went to the browser
        elif self._ending is None:
            self.end(SERVICE_GONE, "the session's service closed the connection")
        else:
            self._browser.abort()  # mid-frame: the browser cannot be told more

    def browser_lost(self) -> None:
        self._closing = True
        if self._timer is not None:
            self._timer.cancel()
        self._upstream.close()

    def _send_close(self) -> None:
        assert self._ending is not None
        if not self._down.closed:
            self._browser.write(close_frame(*self._ending))
        self._hang_up()

    def _hang_up(self) -> None:
        """Our last frame is written: drop the service, half-close towards the browser
        (it answers a close frame and hangs up; what it still sends is read and
        dropped) and give it CLOSE_TIMEOUT to do so."""
        self._closing = True
        if self._timer is not None:
            self._timer.cancel()
        self._upstream.close()
        _set_reading(self._browser, True)
        if self._browser.can_write_eof():
            self._browser.write_eof()
        self._timer = self._loop.call_later(CLOSE_TIMEOUT, self._browser.abort)


def _write(transport: asyncio.Transport, held: bytes, data: bytes, end: int) -> None:
    if held:
        transport.write(held)
    if end == len(data):
        transport.write(data)
    elif end:
        transport.write(memoryview(data)[:end])


def _set_reading(transport: asyncio.Transport, reading: bool) -> None:
    if transport.is_closing():
        return
    if reading:
        transport.resume_reading()
    else:
        transport.pause_reading()


class SplicingWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol, plus the `oqto.splice` accept (module docstring)."""

    splice: Splice | None = None  # once spliced

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        scope: Any = getattr(self, "scope", None)  # absent when the handshake was refused
        if scope is not None:
            scope["extensions"][SPLICE] = {}

    async def send(self, message: Any) -> None:
        if self.splice is not None:
            if message["type"] != "websocket.close":
                raise RuntimeError(f"a spliced WebSocket takes no {message['type']!r}")
            self.splice.end(message.get("code", 1000), message.get("reason") or "")
            return
        upstream = message.get(SPLICE) if message["type"] == "websocket.accept" else None
        if upstream is None:
            await super().send(message)
            return
        if self.disconnected or self.handshake_complete or self.transport.is_closing():
            upstream.close()
            raise ClientDisconnected()
        self._answer_upgrade(upstream)
        self.splice = Splice(self.transport, upstream, self.config.ws_max_size, self.loop)
        # What only the handshake needed (websockets' parser and both heads), so that an
        # open terminal holds little more than its two transports.
        del self.conn, self.request, self.response

    def _answer_upgrade(self, upstream: Upstream) -> None:
        """The 101 websockets prepared for this request (key accepted), with uvicorn's
        default headers and the service's subprotocol and extensions."""
        headers = self.response.headers
        for name in ("Date", "Sec-WebSocket-Extensions", "Sec-WebSocket-Protocol"):
            if name in headers:
                del headers[name]
        for raw_name, raw_value in self.default_headers:
            headers[raw_name.decode("latin-1")] = raw_value.decode("latin-1")
        if upstream.subprotocol:
            headers["Sec-WebSocket-Protocol"] = upstream.subprotocol
        if upstream.extensions:
            headers["Sec-WebSocket-Extensions"] = upstream.extensions
        self.handshake_complete = True
        self.transport.write(self.response.serialize())
        self.logger.info(
            '%s - "WebSocket %s" [spliced]',
            get_client_addr(self.scope),
            get_path_with_query_string(self.scope),
        )

    def data_received(self, data: bytes) -> None:
        if self.splice is not None:
            self.splice.from_browser(data)
        else:
            super().data_received(data)

    def pause_writing(self) -> None:
        if self.splice is not None:
            self.splice.browser_writable(False)
        else:
            super().pause_writing()

    def resume_writing(self) -> None:
        if self.splice is not None:
            self.splice.browser_writable(True)
        else:
            super().resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.splice is not None:
            self.splice.browser_lost()
        super().connection_lost(exc)

    def shutdown(self) -> None:
        if self.splice is not None:
            self.splice.end(RESTARTING, "the server is restarting")
        else:
            super().shutdown()
