"""The data plane: every HTTP request to a session's services (`/api/sessions/{id}/agent/...`
and `/files/...`), served ahead of the API's routing.

These requests are most of what a browser sends, so they skip what the rest of the API
pays for: FastAPI's dependency injection and routing table, a database read for the token
(`authenticate_cached`), a thread hop. What they are checked for is the same: a valid
sign-in, the CSRF header for a cookie sign-in that changes state, a running session the
caller owns. The operations are declared for the OpenAPI document in `api/sessions.py`;
a request this module does not serve (a method none of them has, a path that is not a
session service) goes on to the API, which answers it (405 with `Allow`, 404).
"""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from oqto.control.auth.deps import authenticate_cached, check_csrf
from oqto.control.context import context
from oqto.control.errors import response_for
from oqto.control.proxy.http import forward, upstream_target
from oqto.files.limits import MiB
from oqto.protocol.errors import OqtoError
from oqto.protocol.sessions import ServiceName

PREFIX = "/api/sessions/"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
SERVICES = {"agent": ServiceName.AGENT, "files": ServiceName.FILES}
POLLED = ("/agent/permission", "/agent/question")


def proxied_service(scope: Scope) -> tuple[str, ServiceName] | None:
    """(session id, service) if the data plane serves this request."""
    if scope["type"] != "http":
        return None
    path: str = scope["path"]
    if not path.startswith(PREFIX) or scope["method"] not in METHODS:
        return None
    parts = path.split("/", 5)  # ['', 'api', 'sessions', id, service, rest]
    if len(parts) < 6 or not parts[3]:
        return None
    service = SERVICES.get(parts[4])
    return None if service is None else (parts[3], service)


class DataPlane:
    """ASGI middleware in front of the API (inside the request log and the trusted-proxy
    rewrite, so both still see every request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = proxied_service(scope)
        if found is None:
            await self.app(scope, receive, send)
            return
        session_id, service = found
        conn = HTTPConnection(scope)
        ctx = context(conn)
        try:
            principal = await authenticate_cached(conn, basic=service is ServiceName.AGENT)
            check_csrf(conn, principal)
            route = await ctx.sessions.route(principal.user, session_id)
        except OqtoError as exc:
            await response_for(exc)(scope, receive, send)
            return
        # The inbox's polls of pending requests are a browser tab being open, not use.
        if not (scope["method"] == "GET" and scope["path"].endswith(POLLED)):
            ctx.sessions.touch(session_id)
        # A declared oversize upload is refused before any of it is streamed upstream.
        limit = ctx.config.files.max_upload_mb * MiB if service is ServiceName.FILES else None
        await forward(
            scope,
            receive,
            send,
            ctx.upstreams.get(route, service),
            upstream_target(scope, service.value),
            service.value,
            max_body_bytes=limit,
            watch=lambda end: ctx.live.track(principal, end),
        )
