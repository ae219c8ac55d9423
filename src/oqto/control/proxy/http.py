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

from oqto.control.errors import error_response

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
# Platform credentials and browser context that a session service has no business seeing.
STRIPPED_REQUEST = HOP_BY_HOP | {
    "host",
    "cookie",
    "authorization",
    "x-csrf-token",
    "origin",
    "referer",
}
# A service must not set cookies on the platform's origin, nor make the browser pop up
# a Basic-auth prompt for the service's own credentials.
STRIPPED_RESPONSE = HOP_BY_HOP | {"set-cookie", "www-authenticate"}
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


def _request_headers(request: Request) -> list[tuple[str, str]]:
    return [(k, v) for k, v in request.headers.items() if k.lower() not in STRIPPED_REQUEST]


def _response_headers(response: httpx.Response) -> list[tuple[str, str]]:
    return [(k, v) for k, v in response.headers.multi_items() if k.lower() not in STRIPPED_RESPONSE]


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
    request: Request, client: httpx.AsyncClient, path: str, service_label: str
) -> Response:
    body = request.stream() if request.method not in ("GET", "HEAD") else None
    upstream_request = client.build_request(
        request.method, path, headers=_request_headers(request), content=body
    )
    try:
        upstream = await client.send(upstream_request, stream=True)
    except httpx.TimeoutException:
        return error_response(
            504, "upstream_timeout", f"the session's {service_label} did not answer in time"
        )
    except httpx.TransportError as exc:
        return error_response(
            502, "upstream_unavailable", f"the session's {service_label} is not reachable: {exc}"
        )
    headers = _response_headers(upstream)
    chunks: AsyncIterator[bytes] = upstream.aiter_raw()
    if upstream.headers.get("content-type", "").startswith("text/event-stream"):
        chunks = _with_heartbeats(chunks)
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        headers += [("x-accel-buffering", "no"), ("cache-control", "no-cache")]
    response = StreamingResponse(
        chunks, status_code=upstream.status_code, background=BackgroundTask(upstream.aclose)
    )
    # Starlette would otherwise add its own content-type; copy the upstream's verbatim.
    response.raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    return response
