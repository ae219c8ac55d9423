"""Streaming HTTP proxy: bodies flow through in both directions without being buffered,
the platform's credentials never reach a session service, and SSE streams get comment
heartbeats so intermediaries and browsers never see a silent stream for long."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from oqto.httpheaders import HOP_BY_HOP, connection_tokens
from oqto.protocol.errors import ErrorCode, error_response
from oqto.sockclient import opener_failure

# Platform credentials and browser context that a session service has no business seeing.
STRIPPED_REQUEST = HOP_BY_HOP | {
    "host",
    "cookie",
    "authorization",
    "x-csrf-token",
    "origin",
    "referer",
}
# Forwarding headers a client sent describe nothing we vouch for; the proxy writes its own.
FORWARDING = frozenset({"forwarded", "x-real-ip"})
# A service must not set cookies on the platform's origin, nor make the browser pop up
# a Basic-auth prompt for the service's own credentials. `date` and `server` come from
# uvicorn (one `date`; no `server`), never twice.
STRIPPED_RESPONSE = HOP_BY_HOP | {"set-cookie", "www-authenticate", "date", "server"}
# Set (replacing the service's) on SSE responses so no intermediary buffers them.
SSE_HEADERS = (("x-accel-buffering", "no"), ("cache-control", "no-cache"))
# Anything but JSON or SSE from a session service (opencode serves its own HTML UI, the
# file server serves workspace files) must not run script on the platform's origin, where
# the platform's cookies live, nor be framed. A service's own CSP is kept: browsers enforce
# every policy, so it can only tighten ours.
CONTENT_HEADERS = (("x-frame-options", "DENY"), ("x-content-type-options", "nosniff"))
CONTENT_CSP = "sandbox; default-src 'none'"
SSE_HEARTBEAT_SECONDS = 15.0
SSE_HEARTBEAT = b": keepalive\n\n"


def upstream_path(request: Request, service_segment: str) -> str:
    """The path after `/api/sessions/{id}/{service}`, still percent-encoded as sent."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    parts = raw.split(b"/", 5)  # ['', 'api', 'sessions', id, service, rest]
    rest = parts[5] if len(parts) > 5 and parts[4] == service_segment.encode() else b""
    path = "/" + rest.decode("latin-1")
    query = request.scope.get("query_string", b"").decode("latin-1")
    return f"{path}?{query}" if query else path


def _forwarded(name: str) -> bool:
    return name in FORWARDING or name.startswith("x-forwarded-")


def _request_headers(request: Request) -> list[tuple[str, str]]:
    """The browser's headers minus credentials, hop-by-hop and forwarding headers, plus
    our own X-Forwarded-*. `request.client` and the scheme are the real peer's, or, for a
    request relayed by one of `[server] trusted_proxies`, the client it names (the
    app's TrustedProxyMiddleware has already decided that)."""
    dropped = STRIPPED_REQUEST | connection_tokens(request.headers.getlist("connection"))
    headers = [
        (k, v)
        for k, v in request.headers.items()
        if k.lower() not in dropped and not _forwarded(k.lower())
    ]
    if request.client is not None:
        headers.append(("x-forwarded-for", request.client.host))
    headers.append(("x-forwarded-proto", request.url.scheme))
    if "host" in request.headers:
        headers.append(("x-forwarded-host", request.headers["host"]))
    return headers


def _response_headers(response: httpx.Response) -> list[tuple[str, str]]:
    dropped = STRIPPED_RESPONSE | connection_tokens(response.headers.get_list("connection"))
    return [(k, v) for k, v in response.headers.multi_items() if k.lower() not in dropped]


def _without(headers: list[tuple[str, str]], names: set[str]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers if k.lower() not in names]


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _build_request(
    request: Request, client: httpx.AsyncClient, path: str, body: AsyncIterator[bytes] | None
) -> httpx.Request:
    headers = _request_headers(request)
    upstream = client.build_request(request.method, path, headers=headers, content=body)
    # httpx merges in the client's defaults (Accept: */*, Accept-Encoding: gzip, deflate,
    # User-Agent: python-httpx): a client that asked for no encoding would get gzip. Only
    # what the browser sent goes on; Host, framing and the service credential are added
    # by httpx from the request itself.
    sent = {k.lower() for k, _ in headers}
    for name in client.headers:
        if name.lower() not in sent and name.lower() != "connection":
            del upstream.headers[name]
    return upstream


def _declared_body(request: Request) -> int | None:
    """The Content-Length, 0 if absent, None if chunked or unreadable."""
    if "transfer-encoding" in request.headers:
        return None
    try:
        return int(request.headers.get("content-length", "0"))
    except ValueError:
        return None


async def _with_heartbeats(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Pass SSE bytes through as they come; when the upstream is quiet, send a comment,
    but only between events so one is never split."""
    iterator = chunks.__aiter__()
    at_boundary = True
    pending: asyncio.Task[bytes] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(iterator.__anext__())
            done, _ = await asyncio.wait({pending}, timeout=SSE_HEARTBEAT_SECONDS)
            if not done:
                if at_boundary:
                    yield SSE_HEARTBEAT
                continue
            try:
                chunk = pending.result()
            except StopAsyncIteration:
                return
            finally:
                pending = None
            if chunk:
                at_boundary = chunk.endswith((b"\n\n", b"\r\n\r\n"))
                yield chunk
    finally:
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration, Exception):
                await pending


async def forward(
    request: Request,
    client: httpx.AsyncClient,
    path: str,
    service_label: str,
    *,
    max_body_bytes: int | None = None,
) -> Response:
    """Relay `request` to `path` of the session service behind `client`. With
    `max_body_bytes`, a body declared larger gets its 413 before a byte is relayed."""
    declared = _declared_body(request)
    if request.method in ("GET", "HEAD"):
        if declared != 0:
            return error_response(
                ErrorCode.BODY_NOT_ALLOWED, f"a {request.method} request must not carry a body"
            )
        body = None
    else:
        body = request.stream()
    if max_body_bytes is not None and declared is not None and declared > max_body_bytes:
        return error_response(
            ErrorCode.TOO_LARGE,
            f"request body exceeds the limit of {max_body_bytes} bytes",
            headers={"connection": "close"},
        )
    upstream_request = _build_request(request, client, path, body)
    try:
        upstream = await client.send(upstream_request, stream=True)
    except httpx.TimeoutException:
        return error_response(
            ErrorCode.UPSTREAM_TIMEOUT, f"the session's {service_label} did not answer in time"
        )
    except httpx.TransportError as exc:
        # The user plane's reason (runner away, session gone) outranks "not reachable".
        failure = opener_failure(exc)
        if failure is not None:
            return error_response(failure.code, f"the session's {service_label}: {failure.message}")
        return error_response(
            ErrorCode.UPSTREAM_UNAVAILABLE, f"the session's {service_label} is not reachable: {exc}"
        )
    headers = _response_headers(upstream)
    chunks: AsyncIterator[bytes] = upstream.aiter_raw()
    content_type = upstream.headers.get("content-type", "")
    if content_type.startswith("text/event-stream"):
        chunks = _with_heartbeats(chunks)
        headers = _without(headers, {"content-length", *(k for k, _ in SSE_HEADERS)})
        headers += SSE_HEADERS
    elif not _is_json(content_type):
        headers = _without(headers, {k for k, _ in CONTENT_HEADERS}) + list(CONTENT_HEADERS)
        csp = [v for k, v in headers if k.lower() == "content-security-policy"]
        if CONTENT_CSP not in csp:
            headers.append(("content-security-policy", CONTENT_CSP))
    response = StreamingResponse(
        chunks, status_code=upstream.status_code, background=BackgroundTask(upstream.aclose)
    )
    # Starlette would otherwise add its own content-type; copy the upstream's verbatim.
    response.raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    return response
