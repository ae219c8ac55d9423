"""WebSocket proxy: Origin checked before the upgrade is accepted, the client's
subprotocol offer forwarded, frames relayed both ways, close codes passed through. An
upgrade that cannot go ahead is answered with the HTTP error envelope instead of 101
(the ASGI `websocket.http.response` extension, which uvicorn provides).

Ping/pong cannot cross an ASGI server (it answers pings itself), so each leg keeps its
own keepalive: uvicorn pings the browser, the client library here pings the service.
Messages are bounded both ways (`[server] ws_max_message_bytes`: uvicorn for the browser
leg, `max_size` here for the service leg, which a user's own service controls), and so
is how many the service leg may queue, so neither end can make us hold much memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from oqto.protocol.errors import ErrorCode, error_response
from oqto.sockclient import OpenerError

log = logging.getLogger(__name__)

OPEN_TIMEOUT = 10.0
PING_INTERVAL = 20.0
# Messages the service leg may buffer before we stop reading from it (backpressure).
MAX_QUEUE = 4
# Close code for "the sign-in this connection was opened with has ended" (policy).
SIGNED_OUT = 1008
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
    code, reason = None, ""
    try:
        async for data in upstream:
            if isinstance(data, bytes):
                await websocket.send_bytes(data)
            else:
                await websocket.send_text(data)
    except ConnectionClosed as exc:
        # If we ended it (a message over max_size is 1009), say so rather than pass on
        # "abnormal closure" from a service that never answered our close.
        if exc.rcvd is None and exc.sent is not None:
            code, reason = exc.sent.code, exc.sent.reason
    if code is None:
        code, reason = upstream.close_code, upstream.close_reason or ""
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):
        await websocket.close(_sendable(code), reason)


async def relay(
    websocket: WebSocket,
    *,
    open_upstream: Callable[[], Awaitable[socket.socket]],
    url: str,
    max_message: int,
    ended: asyncio.Event,
    headers: dict[str, str] | None = None,
) -> None:
    """Relay until either side closes or `ended` is set (the sign-in was revoked)."""
    offered = list(websocket.scope.get("subprotocols") or [])
    try:
        upstream = await asyncio.wait_for(
            _connect(open_upstream, url, offered, max_message, headers), OPEN_TIMEOUT
        )
    except (OSError, TimeoutError, InvalidHandshake, OpenerError) as exc:
        status = exc.response.status_code if isinstance(exc, InvalidStatus) else None
        log.warning("websocket upstream unavailable url=%s status=%s error=%s", url, status, exc)
        # Not accepted yet: the upgrade is answered as the HTTP proxy answers the same failure.
        if isinstance(exc, OpenerError):
            refusal = error_response(exc.code, exc.message)
        elif isinstance(exc, TimeoutError):
            refusal = error_response(
                ErrorCode.UPSTREAM_TIMEOUT, "the session service did not answer in time"
            )
        else:
            refusal = error_response(
                ErrorCode.UPSTREAM_UNAVAILABLE, f"the session service is not reachable: {exc}"
            )
        await websocket.send_denial_response(refusal)
        return
    await websocket.accept(subprotocol=upstream.subprotocol)
    tasks = [
        asyncio.create_task(_client_to_upstream(websocket, upstream)),
        asyncio.create_task(_upstream_to_client(websocket, upstream)),
    ]
    revoked = asyncio.create_task(ended.wait())
    try:
        await asyncio.wait([*tasks, revoked], return_when=asyncio.FIRST_COMPLETED)
        if revoked.done():
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await websocket.close(SIGNED_OUT, "signed out")
    finally:
        for task in (*tasks, revoked):
            task.cancel()
        await asyncio.gather(*tasks, revoked, return_exceptions=True)
        await upstream.close()


async def _connect(
    open_upstream: Callable[[], Awaitable[socket.socket]],
    url: str,
    offered: list[str],
    max_message: int,
    headers: dict[str, str] | None,
) -> ClientConnection:
    sock = await open_upstream()
    try:
        return await connect(
            url,
            sock=sock,
            subprotocols=offered or None,  # type: ignore[arg-type]
            additional_headers=headers,
            open_timeout=OPEN_TIMEOUT,
            ping_interval=PING_INTERVAL,
            max_size=max_message,
            max_queue=MAX_QUEUE,
            # The browser's Origin was checked by us; the service sees none of its own.
            origin=None,
            user_agent_header=None,
        )
    except BaseException:
        sock.close()
        raise
