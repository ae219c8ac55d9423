"""WebSocket proxy: Origin checked before the upgrade is accepted, the client's
subprotocol offer forwarded, frames relayed both ways, close codes passed through.

Ping/pong cannot cross an ASGI server (it answers pings itself), so each leg keeps its
own keepalive: uvicorn pings the browser, the client library here pings the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import urlsplit

from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.asyncio.client import ClientConnection, connect, unix_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

log = logging.getLogger(__name__)

OPEN_TIMEOUT = 10.0
PING_INTERVAL = 20.0
# Codes a peer may put on the wire (RFC 6455 7.4): the 1005/1006/1015 family is reserved
# for reporting locally and must be mapped before forwarding.
_UNSENDABLE = {1004, 1005, 1006, 1015}


def origin_allowed(websocket: WebSocket, allowed: set[str]) -> bool:
    """No Origin means a non-browser client, which cannot be tricked into cross-site
    requests. A browser's Origin must be our own host or an explicitly allowed origin."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    if origin.rstrip("/") in allowed:
        return True
    parsed = urlsplit(origin)
    return parsed.scheme in ("http", "https") and parsed.netloc == websocket.headers.get("host")


def _sendable(code: int | None) -> int:
    if code is None or code in _UNSENDABLE or not (1000 <= code < 5000):
        return 1011 if code == 1006 else 1000
    return code


async def _client_to_upstream(websocket: WebSocket, upstream: ClientConnection) -> None:
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            await upstream.close(_sendable(message.get("code")))
            return
        data = message.get("bytes")
        await upstream.send(data if data is not None else message.get("text", ""))


async def _upstream_to_client(websocket: WebSocket, upstream: ClientConnection) -> None:
    try:
        async for data in upstream:
            if isinstance(data, bytes):
                await websocket.send_bytes(data)
            else:
                await websocket.send_text(data)
    except ConnectionClosed:
        pass
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):
        await websocket.close(_sendable(upstream.close_code), upstream.close_reason or "")


async def relay(
    websocket: WebSocket,
    *,
    unix_socket: str | None,
    url: str,
    headers: dict[str, str] | None = None,
) -> None:
    offered = list(websocket.scope.get("subprotocols") or [])
    try:
        if unix_socket is not None:
            upstream = await unix_connect(
                unix_socket,
                url,
                subprotocols=offered or None,
                additional_headers=headers,
                open_timeout=OPEN_TIMEOUT,
                ping_interval=PING_INTERVAL,
                max_size=None,
            )
        else:
            upstream = await connect(
                url,
                subprotocols=offered or None,
                additional_headers=headers,
                open_timeout=OPEN_TIMEOUT,
                ping_interval=PING_INTERVAL,
                max_size=None,
            )
    except (OSError, TimeoutError, InvalidHandshake) as exc:
        status = exc.response.status_code if isinstance(exc, InvalidStatus) else None
        log.warning("websocket upstream unavailable url=%s status=%s error=%s", url, status, exc)
        # Closing before accept makes the ASGI server answer the upgrade with HTTP 403;
        # after accept we can say why with 1011.
        await websocket.accept(subprotocol=offered[0] if offered else None)
        await websocket.close(1011, "session service unavailable")
        return
    await websocket.accept(subprotocol=upstream.subprotocol)
    tasks = [
        asyncio.create_task(_client_to_upstream(websocket, upstream)),
        asyncio.create_task(_upstream_to_client(websocket, upstream)),
    ]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await upstream.close()
