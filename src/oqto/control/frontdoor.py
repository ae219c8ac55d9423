"""The front door of `oqto serve`: what an unauthenticated client can make large or slow is
bounded here, in the HTTP protocol, before a request reaches the application.

uvicorn's httptools protocol has no limit on header size (llhttp has none, and httptools
accumulates a header value in memory until it ends), no deadline for a request's headers
(only an idle timer between keep-alive requests) and no bound on connections per client.
`FrontDoorProtocol` adds the three, each answered with a JSON error in the API's shape:

- request line + headers above `[server] max_header_bytes`: 431, then close;
- headers not complete within `[server] header_timeout_seconds` of the connection opening
  or of the request's first byte: 408 (when no response is under way), then close;
- more than `[server] max_connections_per_client` open connections from one peer address
  (trusted proxies exempt): 429 at once, then close.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import httptools
import uvicorn
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from oqto.config.model import ServerSection
from oqto.control.proxy.wssplice import SplicingWebSocketProtocol
from oqto.control.trustedproxies import TrustedProxies
from oqto.protocol.errors import ErrorCode, error_response

# A refused connection is kept half-open at most this long, so that the client reads the
# refusal instead of a reset.
REFUSAL_LINGER_SECONDS = 2.0


@dataclass(frozen=True)
class FrontDoorLimits:
    max_header_bytes: int
    header_timeout: float
    max_connections_per_client: int
    trusted: TrustedProxies

    @classmethod
    def of(cls, server: ServerSection) -> FrontDoorLimits:
        return cls(
            max_header_bytes=server.max_header_bytes,
            header_timeout=server.header_timeout_seconds,
            max_connections_per_client=server.max_connections_per_client,
            trusted=TrustedProxies(server.trusted_proxies),
        )


class FrontDoorProtocol(HttpToolsProtocol):
    """Use `protocol_class(limits)`: it binds the limits and a fresh per-client counter."""

    limits: ClassVar[FrontDoorLimits]
    # Open connections per peer address. The event loop is single-threaded, so plain dict
    # updates are atomic; every counted connection releases its slot exactly once.
    open_per_client: ClassVar[dict[str, int]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._counted_as: str | None = None
        self._awaiting_headers = True
        self._header_bytes = 0
        self._headers_done = False
        self._header_timer: asyncio.TimerHandle | None = None
        self._refused = False

    # --- connection lifetime ---------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        peer = self.client[0] if self.client else None
        if peer is not None and peer not in self.limits.trusted:
            open_now = self.open_per_client.get(peer, 0)
            if open_now >= self.limits.max_connections_per_client:
                self._refuse_connection(open_now)
                return
            self.open_per_client[peer] = open_now + 1
            self._counted_as = peer
        # Also bounds a connection that never sends a byte.
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        self._release()
        super().connection_lost(exc)

    def _release(self) -> None:
        peer, self._counted_as = self._counted_as, None
        _release_slot(self.open_per_client, peer)

    def handle_websocket_upgrade(self) -> None:
        self._cancel_header_timer()
        super().handle_websocket_upgrade()
        # From here on the transport talks to the WebSocket protocol, and only its
        # connection_lost runs: hook it so the upgraded connection keeps its slot until
        # it really closes. The hook holds the slot, not this protocol (and its request),
        # which an open WebSocket no longer needs.
        ws = self.transport.get_protocol()
        if ws is self:
            return
        inner: Callable[[Exception | None], None] = ws.connection_lost
        counts, peer, self._counted_as = self.open_per_client, self._counted_as, None

        def connection_lost(exc: Exception | None) -> None:
            try:
                inner(exc)
            finally:
                _release_slot(counts, peer)

        setattr(ws, "connection_lost", connection_lost)  # noqa: B010 - instance override

    def _refuse_connection(self, open_now: int) -> None:
        self._refuse(
            ErrorCode.TOO_MANY_CONNECTIONS,
            f"this address already has {open_now} open connections (the limit is "
            f"{self.limits.max_connections_per_client}); close some and retry",
        )

    def _refuse(self, code: ErrorCode, message: str) -> None:
        """Answer (unless a response is already under way, which an error would corrupt),
        then half-close and drop whatever else arrives until the client closes or the
        linger time is up: closing with the client's bytes unread would send a reset,
        and the client could lose the answer."""
        self._cancel_header_timer()
        self._refused = True
        if not self._idle():
            self.transport.close()
            return
        self._write_error(code, message)
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self.loop.call_later(REFUSAL_LINGER_SECONDS, self._close)
        else:  # pragma: no cover - TCP transports can always half-close
            self.transport.close()

    def _close(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()

    # --- reading ---------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        if self._refused or self.parser is None:
            return  # a refused connection's request is read and dropped
        if self._awaiting_headers and self._idle():
            self._arm_header_timer()
        limit = self.limits.max_header_bytes
        view = memoryview(data)
        # Fed in pieces no larger than the room left for headers: httptools keeps a header
        # value in memory until it ends, so it must never see more than the limit of one.
        while view and not self.transport.is_closing():
            if self._awaiting_headers:
                room = limit - self._header_bytes
                if room <= 0:
                    self._headers_too_large()
                    return
                piece = view[:room]
            else:
                piece = view[:limit]
            view = view[len(piece) :]
            counting, self._headers_done = self._awaiting_headers, False
            try:
                self.parser.feed_data(piece)
            except httptools.HttpParserError:
                msg = "Invalid HTTP request received."
                self.logger.warning(msg)
                self.send_400_response(msg)
                return
            except httptools.HttpParserUpgrade:
                if self._should_upgrade():
                    self.handle_websocket_upgrade()
                else:
                    self._unsupported_upgrade_warning()
                return
            # If a pipelined request began after one ended inside this piece, its first
            # bytes are not counted: at most one piece, so it stays within twice the limit.
            if counting and self._awaiting_headers and not self._headers_done:
                self._header_bytes += len(piece)

    def _idle(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_header_timer()

    def on_headers_complete(self) -> None:
        self._awaiting_headers = False
        self._headers_done = True
        self._cancel_header_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._awaiting_headers = True
        self._header_bytes = 0

    def _headers_too_large(self) -> None:
        self._refuse(
            ErrorCode.HEADER_TOO_LARGE,
            f"the request line and headers exceed {self.limits.max_header_bytes} bytes",
        )

    # --- header deadline -------------------------------------------------------------

    def _arm_header_timer(self) -> None:
        """Start the deadline unless it runs already: later bytes must not extend it, or a
        byte a second would hold the connection forever."""
        if self._header_timer is not None:
            return
        self._header_timer = self.loop.call_later(self.limits.header_timeout, self._header_timeout)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_timeout(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        self._refuse(
            ErrorCode.HEADER_TIMEOUT,
            f"the request headers did not arrive within {self.limits.header_timeout:g} s",
        )

    # --- writing ---------------------------------------------------------------------

    def _write_error(self, code: ErrorCode, message: str) -> None:
        # Written by hand (no ASGI app runs for it), but the same response as the app's.
        response = error_response(code, message, {"connection": "close"})
        head = [STATUS_LINE[response.status_code]]
        for name, value in [*self.server_state.default_headers, *response.raw_headers]:
            head += [name, b": ", value, b"\r\n"]
        self.transport.write(b"".join([*head, b"\r\n", response.body]))


def _release_slot(counts: dict[str, int], peer: str | None) -> None:
    if peer is None:
        return
    left = counts.get(peer, 1) - 1
    if left > 0:
        counts[peer] = left
    else:
        counts.pop(peer, None)


def protocol_class(limits: FrontDoorLimits) -> type[FrontDoorProtocol]:
    """A protocol class for one server: its own limits and its own connection counts."""

    class ConfiguredFrontDoor(FrontDoorProtocol):
        pass

    ConfiguredFrontDoor.limits = limits
    ConfiguredFrontDoor.open_per_client = {}
    return ConfiguredFrontDoor


def uvicorn_config(app: Any, server: ServerSection) -> uvicorn.Config:
    """The uvicorn settings of `oqto serve`, the front-door limits included."""
    return uvicorn.Config(
        app,
        http=protocol_class(FrontDoorLimits.of(server)),
        # uvicorn's own WebSocket protocol, which can also splice a session's WebSocket
        # through to its service (oqto.control.proxy.wssplice).
        ws=SplicingWebSocketProtocol,
        # A spliced WebSocket carries whatever compression the browser and the service
        # agreed on; uvicorn's own would only allocate zlib streams (~45 KB) per
        # connection that a splice never uses.
        ws_per_message_deflate=False,
        # Annotated int in uvicorn, but only ever handed to call_later: a float is honoured.
        timeout_keep_alive=server.keepalive_timeout_seconds,  # type: ignore[arg-type]
        ws_max_size=server.ws_max_message_bytes,
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        # The proxy passes a session service's own responses through: uvicorn's `date`
        # is the one date, and no `server` header advertises what we run.
        server_header=False,
        # uvicorn would believe X-Forwarded-For from every loopback process; the app's
        # TrustedProxyMiddleware believes it only from `[server] trusted_proxies`.
        proxy_headers=False,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
