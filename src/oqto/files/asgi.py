"""The little of HTTP that oqto-files needs, on raw ASGI.

A framework's routing, dependency injection and per-parameter validation cost more per
request than reading a small file, and importing FastAPI took half a second of CPU at
every session start (`bench/files_bench.py` measures both). The file server has a
handful of fixed routes with query parameters only, so they are parsed here directly,
with the same refusals (and messages) the framework gave: 404 and 405 with `Allow`,
422 `invalid_request` naming the parameter, every error in the one envelope
(`oqto.protocol.errors.error_response`).
"""

from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any, Final
from urllib.parse import parse_qsl

import anyio
import orjson
from anyio import to_thread

from oqto.protocol.errors import ErrorCode, error_response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

# On every response: even JSON must never be sniffed into something renderable.
SECURITY_HEADERS: Final[Headers] = [
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy", b"sandbox; default-src 'none'"),
]
_JSON: Final = (b"content-type", b"application/json")
# What pydantic accepted for a bool query parameter, which clients may rely on.
_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})
_MISSING: Final = object()


class InvalidRequest(Exception):
    """A query parameter is missing or malformed: 422 `invalid_request`."""


class ClientDisconnect(Exception):
    """The client went away while its request body was being read."""


class Request:
    """One request's method, path, query parameters, headers and body."""

    __slots__ = ("_query", "receive", "scope")

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self.scope = scope
        self.receive = receive
        self._query: dict[str, list[str]] | None = None

    def header(self, name: bytes) -> str | None:
        """The first value of a header (`name` in lower case), as the framework gave it."""
        for key, value in self.scope["headers"]:
            if key == name:
                return str(value.decode("latin-1"))
        return None

    def _values(self, name: str) -> list[str]:
        if self._query is None:
            self._query = {}
            # As Starlette parses it: percent-escapes are UTF-8, blank values are kept.
            qs = self.scope["query_string"].decode("latin-1")
            for key, value in parse_qsl(qs, keep_blank_values=True):
                self._query.setdefault(key, []).append(value)
        return self._query.get(name, [])

    def text(self, name: str, default: str | object = _MISSING) -> str:
        values = self._values(name)
        if values:
            return values[-1]  # the last one wins, as with the framework
        if isinstance(default, str):
            return default
        raise InvalidRequest(f"query.{name}: Field required")

    def optional_text(self, name: str) -> str | None:
        values = self._values(name)
        return values[-1] if values else None

    def texts(self, name: str) -> list[str]:
        """A repeatable parameter; at least one is required."""
        values = self._values(name)
        if not values:
            raise InvalidRequest(f"query.{name}: Field required")
        return values

    def flag(self, name: str, default: bool) -> bool:
        values = self._values(name)
        if not values:
            return default
        value = values[-1].strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise InvalidRequest(
            f"query.{name}: Input should be a valid boolean, unable to interpret input"
        )

    def integer(self, name: str, default: int, *, minimum: int) -> int:
        values = self._values(name)
        if not values:
            return default
        try:
            value = int(values[-1])
        except ValueError:
            raise InvalidRequest(
                f"query.{name}: Input should be a valid integer, unable to parse string as an "
                "integer"
            ) from None
        if value < minimum:
            raise InvalidRequest(
                f"query.{name}: Input should be greater than or equal to {minimum}"
            )
        return value

    async def body(self) -> AsyncIterator[bytes]:
        """The request body as the server hands it over (chunks of up to ~64 KiB)."""
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()
            if chunk := message.get("body", b""):
                yield chunk
            if not message.get("more_body", False):
                return


class Responder:
    """Sends one response and remembers whether it has begun (an error after that can
    only end the connection, not become an error response)."""

    __slots__ = ("_send", "started")

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False

    async def start(self, status: int, headers: Headers) -> None:
        self.started = True
        await self._send(
            {"type": "http.response.start", "status": status, "headers": headers + SECURITY_HEADERS}
        )

    async def body(self, data: bytes, *, more: bool = False) -> None:
        await self._send({"type": "http.response.body", "body": data, "more_body": more})

    async def whole(self, status: int, headers: Headers, body: bytes = b"") -> None:
        """A complete response in one message (no Content-Length on a 204 or 304)."""
        if status not in (204, 304):
            headers = [*headers, (b"content-length", str(len(body)).encode())]
        await self.start(status, headers)
        await self.body(body)

    async def json(self, content: Any, status: int = 200, headers: Headers | None = None) -> None:
        await self.whole(status, [_JSON, *(headers or [])], orjson.dumps(content))

    async def error(
        self,
        code: ErrorCode,
        message: str,
        headers: dict[str, str] | None = None,
        *,
        status: int | None = None,
    ) -> None:
        response = error_response(code, message, headers, status=status)
        await self.start(response.status_code, list(response.raw_headers))
        await self.body(bytes(response.body))

    async def stream(self, receive: Receive, read: Callable[[], bytes]) -> None:
        """Send what `read` returns, called in a worker thread, until it returns b"".

        The response must have started. If the client goes away the stream stops (the
        server would otherwise accept and drop the rest): a watcher waits for the
        disconnect. A read in progress is waited for, never abandoned, so whoever owns
        what `read` reads from may close it as soon as this returns.
        """
        async with anyio.create_task_group() as tasks:

            async def watch() -> None:
                while (await receive())["type"] != "http.disconnect":
                    pass
                tasks.cancel_scope.cancel()

            tasks.start_soon(watch)
            while chunk := await to_thread.run_sync(read):
                await self.body(chunk, more=True)
            await self.body(b"")
            tasks.cancel_scope.cancel()


async def serve_lifespan(receive: Receive, send: Send) -> None:
    """Nothing to set up or tear down; answered for servers that send the lifespan."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
