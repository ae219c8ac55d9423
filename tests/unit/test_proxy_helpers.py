import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.requests import Request
from starlette.websockets import WebSocket

from oqto.control.proxy import http as proxy_http
from oqto.control.proxy.websocket import _sendable, origin_allowed


def request(raw_path: bytes, query: bytes = b"") -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": raw_path.decode(),
            "raw_path": raw_path,
            "query_string": query,
            "headers": [],
        }
    )


def test_upstream_path_keeps_encoding_and_query() -> None:
    req = request(b"/api/sessions/abc/agent/session/a%2Fb/message", b"directory=%2Ftmp")
    assert proxy_http.upstream_path(req, "agent") == "/session/a%2Fb/message?directory=%2Ftmp"
    assert proxy_http.upstream_path(request(b"/api/sessions/abc/files/"), "files") == "/"


def websocket(headers: dict[str, str]) -> WebSocket:
    scope = {
        "type": "websocket",
        "path": "/",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }

    async def receive():  # type: ignore[no-untyped-def]
        return {}

    async def send(_message):  # type: ignore[no-untyped-def]
        return None

    return WebSocket(scope, receive, send)


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        ({"host": "oqto.example:3000"}, True),  # no Origin: not a browser
        ({"host": "oqto.example:3000", "origin": "https://oqto.example:3000"}, True),
        ({"host": "oqto.example:3000", "origin": "https://evil.example"}, False),
        ({"host": "oqto.example:3000", "origin": "null"}, False),
        ({"host": "internal:3000", "origin": "https://public.example"}, True),
    ],
)
def test_origin_check(headers: dict[str, str], allowed: bool) -> None:
    assert origin_allowed(websocket(headers), {"https://public.example"}) is allowed


def test_close_codes_are_sendable() -> None:
    assert _sendable(4000) == 4000
    assert _sendable(1001) == 1001
    assert _sendable(1006) == 1011
    assert _sendable(1005) == 1000
    assert _sendable(None) == 1000


def test_sse_heartbeat_only_between_events(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(proxy_http, "SSE_HEARTBEAT_SECONDS", 0.05)

    async def run() -> None:
        gate_mid, gate_end = asyncio.Event(), asyncio.Event()

        async def upstream() -> AsyncIterator[bytes]:
            yield b"data: one\n\n"
            await gate_mid.wait()  # quiet at an event boundary: heartbeats expected
            yield b"data: tw"
            await gate_end.wait()  # quiet inside an event: a heartbeat would corrupt it
            yield b"o\n\n"

        stream = proxy_http._with_heartbeats(upstream())
        assert await anext(stream) == b"data: one\n\n"
        assert await anext(stream) == proxy_http.SSE_HEARTBEAT
        gate_mid.set()
        while (chunk := await anext(stream)) == proxy_http.SSE_HEARTBEAT:
            pass
        assert chunk == b"data: tw"
        pending = asyncio.ensure_future(anext(stream))
        done, _ = await asyncio.wait({pending}, timeout=0.5)
        assert not done, f"heartbeat injected mid-event: {pending.result()!r}"
        gate_end.set()
        assert await pending == b"o\n\n"
        with pytest.raises(StopAsyncIteration):
            await anext(stream)

    asyncio.run(run())


def test_forward_strips_platform_credentials_and_streams() -> None:
    import httpx
    from starlette.responses import JSONResponse

    received: dict[str, object] = {}

    async def service(scope, receive, send):  # type: ignore[no-untyped-def]
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        received["headers"] = {k.decode(): v.decode() for k, v in scope["headers"]}
        received["body"] = body
        received["path"] = scope["path"]
        response = JSONResponse({"ok": True}, headers={"set-cookie": "oqto_session=evil"})
        response.headers["www-authenticate"] = "Basic"
        await response(scope, receive, send)

    async def run() -> None:
        chunks = [b"part1-", b"part2"]

        async def receive():  # type: ignore[no-untyped-def]
            if chunks:
                return {"type": "http.request", "body": chunks.pop(0), "more_body": bool(chunks)}
            return {"type": "http.disconnect"}

        scope = {
            "type": "http",
            "method": "PUT",
            "path": "/api/sessions/s1/files/file",
            "raw_path": b"/api/sessions/s1/files/file",
            "query_string": b"path=a.txt",
            "headers": [
                (b"cookie", b"oqto_session=secret; oqto_csrf=c"),
                (b"authorization", b"Bearer oqto_secret"),
                (b"x-csrf-token", b"c"),
                (b"origin", b"https://oqto.example"),
                (b"content-type", b"text/plain"),
                (b"host", b"oqto.example"),
            ],
        }
        request = Request(scope, receive)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(service),
            base_url="http://files",
        ) as client:
            response = await proxy_http.forward(
                request, client, proxy_http.upstream_path(request, "files"), "files"
            )
            sent: list[dict[str, Any]] = []

            async def send(message):  # type: ignore[no-untyped-def]
                sent.append(message)

            await response(scope, receive, send)
        headers = received["headers"]
        assert isinstance(headers, dict)
        for name in ("cookie", "authorization", "x-csrf-token", "origin"):
            assert name not in headers, name
        assert headers["content-type"] == "text/plain"
        assert received["body"] == b"part1-part2"
        assert received["path"] == "/file"
        start = sent[0]
        out_headers = {k.decode() for k, _ in start["headers"]}
        assert "set-cookie" not in out_headers and "www-authenticate" not in out_headers

    asyncio.run(run())


# --- header hygiene, bodies on GET, declared oversize, content headers --------------------


class Recorder:
    """A session service that records what reached it and answers with chosen headers."""

    def __init__(
        self,
        content_type: bytes = b"application/json",
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        self.requests: list[dict[str, Any]] = []
        self.content_type = content_type
        self.headers = headers or []

    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.requests.append({"headers": list(scope["headers"]), "body": body})
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", self.content_type), *self.headers],
            }
        )
        await send({"type": "http.response.body", "body": b"{}"})


def proxied(
    service: Recorder,
    headers: list[tuple[bytes, bytes]],
    *,
    method: str = "GET",
    body: bytes = b"",
    label: str = "agent",
    max_body_bytes: int | None = None,
) -> tuple[int, list[tuple[str, str]], bytes]:
    """One request through `forward` to `service`: the status, headers and body the browser
    would get. The browser's body is offered only when `forward` asks for it."""
    import httpx

    asked: list[bool] = []

    async def receive():  # type: ignore[no-untyped-def]
        asked.append(True)
        if len(asked) == 1:
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the browser stays connected until the response ends

    scope = {
        "type": "http",
        "method": method,
        "scheme": "http",
        "server": ("oqto.example", 80),
        "client": ("203.0.113.7", 5555),
        "path": "/api/sessions/s1/agent/x",
        "raw_path": b"/api/sessions/s1/agent/x",
        "query_string": b"",
        "headers": [(b"host", b"oqto.example"), *headers],
    }

    async def run() -> tuple[int, list[tuple[str, str]], bytes]:
        request = Request(scope, receive)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(service),
            base_url="http://svc",
        ) as client:
            response = await proxy_http.forward(
                request, client, "/x", label, max_body_bytes=max_body_bytes
            )
            sent: list[dict[str, Any]] = []

            async def send(message):  # type: ignore[no-untyped-def]
                sent.append(message)

            await response(scope, receive, send)
        start = sent[0]
        out = [(k.decode(), v.decode()) for k, v in start["headers"]]
        data = b"".join(m.get("body", b"") for m in sent[1:])
        return int(start["status"]), out, data

    result = asyncio.run(run())
    if method not in ("GET", "HEAD") and result[0] == 413:
        assert not asked, "the body was read before the 413"
    return result


def names(headers: list[tuple[str, str]]) -> list[str]:
    return [k.lower() for k, _ in headers]


def upstream_headers(service: Recorder) -> dict[str, list[str]]:
    assert len(service.requests) == 1
    seen: dict[str, list[str]] = {}
    for k, v in service.requests[0]["headers"]:
        seen.setdefault(k.decode().lower(), []).append(v.decode())
    return seen


def test_forward_adds_no_headers_of_its_own_and_sets_forwarding() -> None:
    service = Recorder()
    status, _, _ = proxied(
        service,
        [
            (b"x-forwarded-for", b"6.6.6.6"),
            (b"x-forwarded-host", b"evil.example"),
            (b"x-forwarded-proto", b"https"),
            (b"forwarded", b"for=6.6.6.6"),
            (b"x-real-ip", b"6.6.6.6"),
            (b"connection", b"keep-alive, X-Hop"),
            (b"x-hop", b"secret"),
            (b"x-kept", b"1"),
        ],
    )
    assert status == 200
    seen = upstream_headers(service)
    for name in ("accept", "accept-encoding", "user-agent", "x-hop", "forwarded", "x-real-ip"):
        assert name not in seen, name
    assert seen["x-forwarded-for"] == ["203.0.113.7"]
    assert seen["x-forwarded-proto"] == ["http"]
    assert seen["x-forwarded-host"] == ["oqto.example"]
    assert seen["x-kept"] == ["1"]


def test_forward_passes_accept_encoding_exactly() -> None:
    service = Recorder()
    proxied(service, [(b"accept-encoding", b"br;q=1, identity;q=0.5"), (b"accept", b"text/x")])
    seen = upstream_headers(service)
    assert seen["accept-encoding"] == ["br;q=1, identity;q=0.5"]
    assert seen["accept"] == ["text/x"]


def test_response_loses_connection_named_date_and_server_headers() -> None:
    service = Recorder(
        headers=[
            (b"date", b"Thu, 01 Jan 1970 00:00:00 GMT"),
            (b"server", b"opencode"),
            (b"connection", b"x-upstream-hop"),
            (b"x-upstream-hop", b"1"),
            (b"x-kept", b"2"),
        ]
    )
    _, headers, _ = proxied(service, [])
    got = names(headers)
    for name in ("date", "server", "connection", "x-upstream-hop"):
        assert name not in got, name
    assert ("x-kept", "2") in headers


def test_sse_headers_are_set_once() -> None:
    service = Recorder(
        content_type=b"text/event-stream",
        headers=[(b"cache-control", b"no-store"), (b"x-accel-buffering", b"yes")],
    )
    _, headers, _ = proxied(service, [])
    got = names(headers)
    assert got.count("cache-control") == 1 and ("cache-control", "no-cache") in headers
    assert got.count("x-accel-buffering") == 1 and ("x-accel-buffering", "no") in headers


@pytest.mark.parametrize(
    "body_header", [(b"content-length", b"5"), (b"transfer-encoding", b"chunked")]
)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_get_or_head_with_a_body_is_a_400(method: str, body_header: tuple[bytes, bytes]) -> None:
    service = Recorder()
    status, _, body = proxied(service, [body_header], method=method, body=b"hello")
    assert status == 400
    if method == "GET":
        assert b"body_not_allowed" in body
    assert service.requests == []


def test_declared_oversize_body_gets_413_before_it_is_read() -> None:
    service = Recorder()
    status, _, body = proxied(
        service,
        [(b"content-length", b"1001")],
        method="PUT",
        body=b"x" * 1001,
        label="files",
        max_body_bytes=1000,
    )
    assert status == 413 and b"too_large" in body and b"1000" in body
    assert service.requests == []
    status, _, _ = proxied(
        service,
        [(b"content-length", b"1000")],
        method="PUT",
        body=b"x" * 1000,
        label="files",
        max_body_bytes=1000,
    )
    assert status == 200
    assert service.requests[0]["body"] == b"x" * 1000


@pytest.mark.parametrize("label", ["agent", "files"])
def test_non_json_responses_cannot_script_or_be_framed(label: str) -> None:
    html = Recorder(
        content_type=b"text/html; charset=utf-8",
        headers=[(b"x-frame-options", b"SAMEORIGIN"), (b"content-security-policy", b"img-src *")],
    )
    _, headers, _ = proxied(html, [], label=label)
    got = names(headers)
    assert got.count("x-frame-options") == 1 and ("x-frame-options", "DENY") in headers
    assert ("x-content-type-options", "nosniff") in headers
    policies = [v for k, v in headers if k.lower() == "content-security-policy"]
    assert "img-src *" in policies  # the service's own policy still applies (tighter)
    assert any(p.startswith("sandbox") for p in policies)
    _, json_headers, _ = proxied(Recorder(), [], label=label)
    assert "content-security-policy" not in names(json_headers)
