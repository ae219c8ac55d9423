"""WebSocket proxy, the application's half: Origin checked before the upgrade is accepted
(the routes do that, with sign-in and ownership), then our own upgrade request to the
session's service on the socket the user plane hands over, then the splice
(`wssplice`): frames pass end to end, close codes and pings included. An upgrade that
cannot go ahead is answered with the HTTP error envelope instead of 101 (the ASGI
`websocket.http.response` extension, which uvicorn provides).

What the service may choose is checked before the browser sees it: its answer must be a
101 for our key, its subprotocol one the browser offered and its extensions ones the
browser offered (rebuilt from their parsed form, so nothing but tokens reaches the
browser's handshake). The browser's offer is forwarded the same way, and nothing else
of the browser's request: no cookies, no Origin, no credentials of ours.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.datastructures import Headers
from websockets.exceptions import InvalidHandshake
from websockets.headers import (
    build_extension,
    build_subprotocol,
    parse_connection,
    parse_extension,
    parse_subprotocol,
    parse_upgrade,
)
from websockets.http11 import Request
from websockets.typing import Subprotocol
from websockets.utils import accept_key, generate_key

from oqto.control.proxy.wssplice import SPLICE, Answer, UpgradeFailed, Upstream
from oqto.protocol.errors import ErrorCode, error_response
from oqto.sockclient import OpenerError, adopt

log = logging.getLogger(__name__)

OPEN_TIMEOUT = 10.0
# Close code for "the sign-in this connection was opened with has ended" (policy).
SIGNED_OUT = 1008

Track = Callable[[Callable[[], None]], Callable[[], None]]


def origin_allowed(conn: HTTPConnection, allowed: set[str]) -> bool:
    """No Origin means a non-browser client, which cannot be tricked into cross-site
    requests. A browser's Origin must be our own host or an explicitly allowed origin."""
    origin = conn.headers.get("origin")
    if origin is None:
        return True
    if origin.rstrip("/") in allowed:
        return True
    parsed = urlsplit(origin)
    return parsed.scheme in ("http", "https") and parsed.netloc == conn.headers.get("host")


class UpgradeRefused(Exception):
    def __init__(self, why: str, status: int | None = None) -> None:
        super().__init__(why)
        self.status = status


async def relay(
    websocket: WebSocket,
    *,
    open_upstream: Callable[[], Awaitable[socket.socket]],
    host: str,
    path: str,
    track: Track,
    headers: dict[str, str] | None = None,
) -> None:
    """Relay until either side closes, or the sign-in ends: `track(end)` registers the
    connection with whatever ends sign-ins and returns the function that unregisters it."""
    offer = _extension_offer(websocket.headers.getlist("sec-websocket-extensions"))
    subprotocols = list(websocket.scope.get("subprotocols") or [])
    try:
        upstream = await asyncio.wait_for(
            _open(open_upstream, host, path, subprotocols, offer, headers), OPEN_TIMEOUT
        )
    except (OSError, TimeoutError, UpgradeRefused, OpenerError) as exc:
        status = exc.status if isinstance(exc, UpgradeRefused) else None
        log.warning("websocket upstream unavailable path=%s status=%s error=%s", path, status, exc)
        await websocket.send_denial_response(_refusal(exc))
        return
    if SPLICE not in websocket.scope.get("extensions", {}):
        upstream.close()
        log.error("websocket refused: the server does not offer the %s extension", SPLICE)
        await websocket.send_denial_response(
            error_response(ErrorCode.INTERNAL, "this server cannot relay WebSockets")
        )
        return
    await websocket.receive()  # websocket.connect
    try:
        await websocket.send({"type": "websocket.accept", SPLICE: upstream})
    except OSError:
        return  # the browser left while the service answered; the protocol closed both
    revoked: asyncio.Future[object] = asyncio.get_running_loop().create_future()

    def end() -> None:
        if not revoked.done():
            revoked.set_result(None)

    untrack = track(end)
    closed: asyncio.Future[object] = asyncio.ensure_future(websocket.receive())  # disconnect
    try:
        await asyncio.wait([closed, revoked], return_when=asyncio.FIRST_COMPLETED)
        if revoked.done() and not closed.done():
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await websocket.close(SIGNED_OUT, "signed out")
            await closed
    finally:
        untrack()
        closed.cancel()
        await asyncio.gather(closed, return_exceptions=True)


def _refusal(exc: Exception) -> Response:
    if isinstance(exc, OpenerError):
        return error_response(exc.code, exc.message)
    if isinstance(exc, TimeoutError):
        return error_response(
            ErrorCode.UPSTREAM_TIMEOUT, "the session service did not answer in time"
        )
    return error_response(
        ErrorCode.UPSTREAM_UNAVAILABLE, f"the session service is not reachable: {exc}"
    )


async def _open(
    open_upstream: Callable[[], Awaitable[socket.socket]],
    host: str,
    path: str,
    subprotocols: list[str],
    extensions: str | None,
    extra: dict[str, str] | None,
) -> Upstream:
    """The service's connection, upgraded: our request on the passed socket, its answer
    checked."""
    sock = await open_upstream()
    upstream = await adopt(sock, Upstream)
    key = generate_key()
    request = Headers(
        Host=host,
        Upgrade="websocket",
        Connection="Upgrade",
        **{"Sec-WebSocket-Key": key, "Sec-WebSocket-Version": "13"},
    )
    if subprotocols:
        request["Sec-WebSocket-Protocol"] = build_subprotocol(
            [Subprotocol(p) for p in subprotocols]
        )
    if extensions:
        request["Sec-WebSocket-Extensions"] = extensions
    request.update(extra or {})
    try:
        answer = await upstream.upgrade(Request(path, request))
        upstream.subprotocol, upstream.extensions = _check(answer, key, subprotocols, extensions)
    except BaseException as exc:
        upstream.close()
        if isinstance(exc, UpgradeFailed | InvalidHandshake):
            raise UpgradeRefused(str(exc)) from None
        raise
    return upstream


def _check(
    answer: Answer, key: str, subprotocols: list[str], offer: str | None
) -> tuple[str | None, str | None]:
    """The subprotocol and extensions the service chose, if its answer is a valid
    acceptance of our request (RFC 6455 4.2.2)."""
    if answer.status != 101:
        raise UpgradeRefused(f"the upgrade was answered with {answer.status}", answer.status)
    head = answer.headers
    if not any(
        v.lower() == "upgrade" for h in head.get("connection", []) for v in parse_connection(h)
    ):
        raise UpgradeRefused("the answer's Connection header is not an upgrade")
    if [v.lower() for h in head.get("upgrade", []) for v in parse_upgrade(h)] != ["websocket"]:
        raise UpgradeRefused("the answer's Upgrade header is not websocket")
    if head.get("sec-websocket-accept") != [accept_key(key)]:
        raise UpgradeRefused("the answer's Sec-WebSocket-Accept is not for our key")
    chosen = [p for h in head.get("sec-websocket-protocol", []) for p in parse_subprotocol(h)]
    if len(chosen) > 1 or not set(chosen) <= set(subprotocols):
        raise UpgradeRefused(f"the service chose a subprotocol not offered: {chosen}")
    accepted = [e for h in head.get("sec-websocket-extensions", []) for e in parse_extension(h)]
    offered = {name for name, _ in parse_extension(offer)} if offer else set()
    if not {name for name, _ in accepted} <= offered:
        raise UpgradeRefused("the service chose an extension not offered")
    return (chosen[0] if chosen else None), (build_extension(accepted) if accepted else None)


def _extension_offer(values: list[str]) -> str | None:
    """The browser's Sec-WebSocket-Extensions, rebuilt from its parsed form; a malformed
    offer is left out (the connection goes ahead without extensions)."""
    try:
        offered = [e for value in values for e in parse_extension(value)]
    except InvalidHandshake:
        return None
    return build_extension(offered) if offered else None
