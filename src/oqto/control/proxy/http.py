"""The streaming HTTP proxy to a session's services, as a raw ASGI handler: bodies flow
through in both directions without being buffered, the platform's credentials never reach
a session service, and SSE streams get comment heartbeats so intermediaries and browsers
never see a silent stream for long.

This is the data plane's hot path (`docs/architecture.md`, "The data plane"): headers are
handled as the bytes ASGI gives us, the upstream is our own pooled client
(`oqto.httpclient`), and a long answer is watched for revocation, for the client going away
and for quiet spells by callbacks and timers, not by a task per chunk.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from starlette.types import Message, Receive, Scope, Send

from oqto.httpclient import Connection, UpstreamClosed, UpstreamError, UpstreamPool
from oqto.httpheaders import HOP_BY_HOP, connection_tokens
from oqto.protocol.errors import ErrorCode, error_response

log = logging.getLogger(__name__)


def _names(names: frozenset[str] | set[str]) -> frozenset[bytes]:
    return frozenset(n.encode() for n in names)


# Platform credentials and browser context that a session service has no business
# seeing; framing is ours to write, and an `Expect` would be answered by the service
# behind the browser's back (uvicorn answers it for us).
STRIPPED_REQUEST = _names(
    HOP_BY_HOP
    | {
        "host",
        "cookie",
        "authorization",
        "x-csrf-token",
        "origin",
        "referer",
        "content-length",
        "expect",
    }
)
# Forwarding headers a client sent describe nothing we vouch for; the proxy writes its own.
FORWARDING = _names({"forwarded", "x-real-ip"})
# A service must not set cookies on the platform's origin, nor make the browser pop up
# a Basic-auth prompt for the service's own credentials. `date` and `server` come from
# uvicorn (one `date`; no `server`), never twice.
STRIPPED_RESPONSE = _names(HOP_BY_HOP | {"set-cookie", "www-authenticate", "date", "server"})
# Set (replacing the service's) on SSE responses so no intermediary buffers them.
SSE_HEADERS = ((b"x-accel-buffering", b"no"), (b"cache-control", b"no-cache"))
# Anything but JSON or SSE from a session service (opencode serves its own HTML UI, the
# file server serves workspace files) must not run script on the platform's origin, where
# the platform's cookies live, nor be framed. A service's own CSP is kept: browsers enforce
# every policy, so it can only tighten ours.
CONTENT_HEADERS = ((b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"))
CONTENT_CSP = b"sandbox; default-src 'none'"
SSE_HEARTBEAT_SECONDS = 15.0
SSE_HEARTBEAT = b": keepalive\n\n"
# Shorter answers end by themselves within moments: watching them for revocation or a
# client that left is not worth the bookkeeping.
LONG_RESPONSE_BYTES = 1 << 20
BODY_METHODS = frozenset({b"POST", b"PUT", b"PATCH"})

# Called with a function that ends the answer; returns the function that stops watching.
Watch = Callable[[Callable[[], None]], Callable[[], None]]


def upstream_target(scope: Scope, service_segment: str) -> bytes:
    """The path after `/api/sessions/{id}/{service}`, still percent-encoded as sent."""
    raw: bytes = scope.get("raw_path") or scope["path"].encode()
    parts = raw.split(b"?", 1)[0].split(b"/", 5)  # ['', 'api', 'sessions', id, service, rest]
    rest = parts[5] if len(parts) > 5 and parts[4] == service_segment.encode() else b""
    query: bytes = scope.get("query_string", b"")
    return b"/" + rest + (b"?" + query if query else b"")


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if key == name:
            return value
    return None


def _declared_body(headers: list[tuple[bytes, bytes]]) -> int | None:
    """The Content-Length, 0 if absent, None if chunked or unreadable."""
    if _header(headers, b"transfer-encoding") is not None:
        return None
    length = _header(headers, b"content-length")
    if length is None:
        return 0
    try:
        return int(length)
    except ValueError:
        return None


def _hop_tokens(headers: list[tuple[bytes, bytes]]) -> frozenset[bytes]:
    values = [v.decode("latin-1") for k, v in headers if k.lower() == b"connection"]
    return _names(connection_tokens(values)) if values else frozenset()


def request_head(
    scope: Scope, target: bytes, pool: UpstreamPool, declared: int | None, has_body: bool
) -> bytes:
    """The request line and headers for the service: the browser's headers minus
    credentials, hop-by-hop and forwarding headers; our own X-Forwarded-* (`client` and
    the scheme are the real peer's, or, for a request relayed by one of `[server]
    trusted_proxies`, the client it names: TrustedProxyMiddleware decided that); the
    service's credential; our framing."""
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    dropped = STRIPPED_REQUEST | _hop_tokens(headers)
    method: str = scope["method"]
    out = [method.encode(), b" ", target, b" HTTP/1.1\r\nhost: ", pool.host, b"\r\n"]
    forwarded_host = None
    for name, value in headers:
        if name == b"host":
            forwarded_host = value
        if name in dropped or name in FORWARDING or name.startswith(b"x-forwarded-"):
            continue
        out += (name, b": ", value, b"\r\n")
    client = scope.get("client")
    if client:
        out += (b"x-forwarded-for: ", str(client[0]).encode(), b"\r\n")
    out += (b"x-forwarded-proto: ", scope.get("scheme", "http").encode(), b"\r\n")
    if forwarded_host is not None:
        out += (b"x-forwarded-host: ", forwarded_host, b"\r\n")
    if pool.authorization is not None:
        out += (b"authorization: ", pool.authorization, b"\r\n")
    if declared is None:
        out.append(b"transfer-encoding: chunked\r\n")
    elif has_body or method.encode() in BODY_METHODS:
        out += (b"content-length: ", str(declared).encode(), b"\r\n")
    out.append(b"\r\n")
    return b"".join(out)


def _is_json(content_type: bytes) -> bool:
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or media.endswith(b"+json")


def response_headers(raw: list[tuple[bytes, bytes]]) -> tuple[list[tuple[bytes, bytes]], bool]:
    """The service's headers as the browser gets them, and whether this is an SSE stream."""
    dropped = STRIPPED_RESPONSE | _hop_tokens(raw)
    headers = [(k, v) for k, v in raw if k.lower() not in dropped]
    content_type = _header([(k.lower(), v) for k, v in headers], b"content-type") or b""
    if content_type.startswith(b"text/event-stream"):
        replaced = {b"content-length", *(k for k, _ in SSE_HEADERS)}
        return [(k, v) for k, v in headers if k.lower() not in replaced] + list(SSE_HEADERS), True
    if not _is_json(content_type):
        replaced = {k for k, _ in CONTENT_HEADERS}
        headers = [(k, v) for k, v in headers if k.lower() not in replaced] + list(CONTENT_HEADERS)
        if not any(
            k.lower() == b"content-security-policy" and v == CONTENT_CSP for k, v in headers
        ):
            headers.append((b"content-security-policy", CONTENT_CSP))
    return headers, False


async def _refuse(
    scope: Scope, receive: Receive, send: Send, code: ErrorCode, message: str
) -> None:
    headers = {"connection": "close"} if code is ErrorCode.TOO_LARGE else None
    await error_response(code, message, headers)(scope, receive, send)


async def forward(
    scope: Scope,
    receive: Receive,
    send: Send,
    pool: UpstreamPool,
    target: bytes,
    service_label: str,
    *,
    max_body_bytes: int | None = None,
    watch: Watch | None = None,
) -> None:
    """Relay the request to `target` of the service behind `pool` and its answer back.
    With `max_body_bytes`, a body declared larger gets its 413 before a byte is relayed;
    with `watch`, a long answer ends when the function `watch` was given is called."""
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    declared = _declared_body(headers)
    method = scope["method"]
    if method in ("GET", "HEAD") and declared != 0:
        await _refuse(
            scope,
            receive,
            send,
            ErrorCode.BODY_NOT_ALLOWED,
            f"a {method} request must not carry a body",
        )
        return
    if max_body_bytes is not None and declared is not None and declared > max_body_bytes:
        await _refuse(
            scope,
            receive,
            send,
            ErrorCode.TOO_LARGE,
            f"request body exceeds the limit of {max_body_bytes} bytes",
        )
        return
    has_body = declared != 0
    head = request_head(scope, target, pool, declared, has_body)
    try:
        conn = await _send_request(
            pool, head, method == "HEAD", receive if has_body else None, declared
        )
    except UpstreamError as exc:
        if exc.code is ErrorCode.UPSTREAM_TIMEOUT:
            message = f"the session's {service_label} did not answer in time: {exc.message}"
        else:
            message = f"the session's {service_label}: {exc.message}"
        await _refuse(scope, receive, send, exc.code, message)
        return
    try:
        await _relay_answer(scope, receive, send, conn, watch)
    finally:
        pool.release(conn)


async def _send_request(
    pool: UpstreamPool, head: bytes, head_only: bool, receive: Receive | None, declared: int | None
) -> Connection:
    """Send the request, its body streamed from `receive`, and wait for the answer's head."""
    if receive is None:
        return await pool.request(head, head_only=head_only)
    body_from = receive

    async def body(conn: Connection) -> None:
        try:
            await _send_body(conn, body_from, chunked=declared is None)
        except UpstreamClosed:
            if not conn.answered:
                raise
            # It answered (a 413, say) and hung up before taking the whole body.

    return await pool.request(head, head_only=head_only, body=body)


async def _send_body(conn: Connection, receive: Receive, *, chunked: bool) -> None:
    while not conn.answered:
        message = await receive()
        if message["type"] == "http.disconnect":
            conn.end("the client went away")
            raise UpstreamError(ErrorCode.BAD_REQUEST, "the client went away mid-request")
        data: bytes = message.get("body", b"")
        more = message.get("more_body", False)
        if chunked:
            framed = b"%x\r\n%s\r\n" % (len(data), data) if data else b""
            await conn.write(framed + (b"0\r\n\r\n" if not more else b""))
        elif data:
            await conn.write(data)
        if not more:
            return
    # The service answered before taking the whole body (a 413, say): the rest is not
    # sent, and the connection is not reused.
    conn.end("answered early")


async def _relay_answer(
    scope: Scope, receive: Receive, send: Send, conn: Connection, watch: Watch | None
) -> None:
    headers, sse = response_headers(conn.headers)
    length = _header([(k.lower(), v) for k, v in headers], b"content-length")
    await send({"type": "http.response.start", "status": conn.status, "headers": headers})
    if conn.complete and not sse:
        await send({"type": "http.response.body", "body": await conn.read()})
        return
    long_lived = sse or length is None or not length.isdigit() or int(length) > LONG_RESPONSE_BYTES
    unwatch = watch(lambda: conn.end("signed out")) if watch is not None and long_lived else None
    # A client that leaves is seen only by reading from it; uvicorn would otherwise take
    # our writes silently and the upstream would stream on for nobody.
    gone = asyncio.ensure_future(_client_gone(receive, conn)) if long_lived else None
    try:
        await _stream_body(send, conn, sse)
    finally:
        if unwatch is not None:
            unwatch()
        if gone is not None:
            gone.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await gone


async def _stream_body(send: Send, conn: Connection, sse: bool) -> None:
    at_boundary = True
    while True:
        try:
            data = await conn.read(SSE_HEARTBEAT_SECONDS if sse and at_boundary else None)
        except UpstreamClosed as exc:
            # Too late for an error answer: end the connection so the client sees a
            # truncated body, not a complete one.
            log.warning("proxied answer cut short: %s", exc.message)
            return
        if data is None:
            await send({"type": "http.response.body", "body": SSE_HEARTBEAT, "more_body": True})
            continue
        if not data:
            if conn.ended is not None and not sse:
                # Cut short (signed out, session stopped): a download must look truncated,
                # not complete (uvicorn also refuses to end one short of its length).
                return
            break
        if sse:
            at_boundary = data.endswith((b"\n\n", b"\r\n\r\n"))
        await send({"type": "http.response.body", "body": data, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


async def _client_gone(receive: Receive, conn: Connection) -> None:
    message: Message = {}
    while message.get("type") != "http.disconnect":
        message = await receive()
    conn.end("the client went away")
