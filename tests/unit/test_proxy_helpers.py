import asyncio
from collections.abc import AsyncIterator

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
            base_url="http://files",  # type: ignore[arg-type]
        ) as client:
            response = await proxy_http.forward(
                request, client, proxy_http.upstream_path(request, "files"), "files"
            )
            sent: list[dict[str, object]] = []

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
        out_headers = {k.decode() for k, _ in start["headers"]}  # type: ignore[union-attr]
        assert "set-cookie" not in out_headers and "www-authenticate" not in out_headers

    asyncio.run(run())
