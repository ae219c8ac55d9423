"""One log line per HTTP request or WebSocket: user, method, path, status, duration.

A proxied HTTP request to a session's service that succeeds is logged at debug, as
configurable-http-proxy and Traefik log what they relay: a browser sends dozens of them
per page and turn, and writing each line was a tenth of the data plane's CPU. Its
failures, the API's requests and every WebSocket stay at info.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oqto.control.proxy.dataplane import proxied_service

log = logging.getLogger("oqto.request")


class RequestLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def capture(message: Message) -> None:
            nonlocal status
            kind = message["type"]
            if kind in ("http.response.start", "websocket.http.response.start"):
                status = message["status"]
            elif kind == "websocket.accept":
                status = 101
            elif kind == "websocket.close" and status == 0:
                status = 403
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            relayed = 0 < status < 400 and proxied_service(scope) is not None
            level = logging.DEBUG if relayed else logging.INFO
            if log.isEnabledFor(level):
                log.log(
                    level,
                    "request",
                    extra={
                        "user": scope.get("state", {}).get("username", "-"),
                        "method": scope.get("method", "WS"),
                        "path": scope["path"],
                        "status": status or 500,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    },
                )
