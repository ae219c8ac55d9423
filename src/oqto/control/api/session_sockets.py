"""The WebSockets of a session's services: ttyd's terminal and opencode's PTY API."""

from __future__ import annotations

import base64
import logging
from urllib.parse import quote

from fastapi import APIRouter, WebSocket

from oqto.control.auth.deps import Principal, authenticate_cached
from oqto.control.context import context
from oqto.control.errors import ApiError, response_for
from oqto.control.proxy.websocket import origin_allowed, relay
from oqto.control.sessions import SessionRoute
from oqto.protocol import terminals
from oqto.protocol.errors import ErrorCode, OqtoError
from oqto.protocol.sessions import ServiceName

log = logging.getLogger(__name__)

router = APIRouter(prefix="/sessions", tags=["sessions"])


async def _ws_route(
    websocket: WebSocket, session_id: str, *, basic: bool = False
) -> tuple[Principal, SessionRoute] | None:
    """Origin, credentials and ownership for a WebSocket upgrade. A refusal is the HTTP
    error any other route would answer, sent instead of accepting the upgrade (403
    origin_refused, 401 unauthorized, 404 not_found, 409 session_not_running, ...), so a
    client can tell a missing session from a refused one."""
    ctx = context(websocket)
    allowed = set(ctx.config.server.allowed_origins)
    if ctx.config.server.public_url:
        allowed.add(ctx.config.server.public_url.rstrip("/"))
    try:
        if not origin_allowed(websocket, allowed):
            log.warning("websocket refused: foreign origin %s", websocket.headers.get("origin"))
            raise ApiError(ErrorCode.ORIGIN_REFUSED, "this Origin may not open WebSockets here")
        principal = await authenticate_cached(websocket, basic=basic)
        route = await ctx.sessions.route(principal.user, session_id)
        ctx.sessions.touch(session_id)
        return principal, route
    except OqtoError as exc:
        log.info("websocket refused: %s", exc.code)
        await websocket.send_denial_response(response_for(exc))
        return None


async def _relay(
    websocket: WebSocket,
    found: tuple[Principal, SessionRoute],
    service: ServiceName,
    path: str,
    headers: dict[str, str] | None = None,
) -> None:
    ctx = context(websocket)
    principal, route = found
    await relay(
        websocket,
        open_upstream=lambda: route.connect(service),
        host=service.value,
        path=path,
        track=lambda end: ctx.live.track(principal, end),
        headers=headers,
    )


@router.websocket("/{session_id}/terminal")
async def terminal(websocket: WebSocket, session_id: str) -> None:
    """ttyd's WebSocket (subprotocol `tty`); `?name=N` picks one of the session's
    terminals, `&close=1` ends it. ttyd's URL is rebuilt from the checked values."""
    found = await _ws_route(websocket, session_id)
    if found is None:
        return
    try:
        request = terminals.from_query(websocket.scope.get("query_string", b"").decode("latin-1"))
    except terminals.TerminalRequestError as exc:
        await websocket.send_denial_response(
            response_for(ApiError(ErrorCode.BAD_REQUEST, str(exc)))
        )
        return
    await _relay(websocket, found, ServiceName.TERMINAL, request.ttyd_path())


@router.websocket("/{session_id}/agent/{path:path}")
async def agent_websocket(websocket: WebSocket, session_id: str, path: str) -> None:
    """opencode's own WebSocket endpoints (its PTY API)."""
    found = await _ws_route(websocket, session_id, basic=True)
    if found is None:
        return
    auth = found[1].agent_auth
    credential = base64.b64encode(f"{auth.username}:{auth.password}".encode()).decode()
    query = websocket.scope.get("query_string", b"").decode("latin-1")
    target = f"/{quote(path)}" + (f"?{query}" if query else "")
    await _relay(
        websocket,
        found,
        ServiceName.AGENT,
        target,
        headers={"Authorization": f"Basic {credential}"},
    )
