"""An httpx transport whose connections are sockets handed to it by an *opener*.

Nothing here resolves a host or a path: the opener decides what a new connection is
(a socket the user's runner passed over its socket, or one we opened to a loopback port)
and proves who serves it before returning it. The transport only speaks HTTP over it.
Used by the proxy (one per session service) and by readiness probes, so a probe never
sends opencode's password to a listener that is not the session's own.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

import anyio
import anyio.abc
import httpcore
import httpx

# httpcore's own stream over an anyio socket stream: it already answers the pool's
# "is this idle connection still readable" question, which a keep-alive pool needs.
from httpcore._backends.anyio import AnyIOStream

from oqto.osutil.sockowner import SocketOwnerError, peer_uid
from oqto.protocol.errors import ErrorCode, OqtoError

Opener = Callable[[], Awaitable[socket.socket]]


class OpenerError(OqtoError):
    """The opener could not provide a verified connection. `code` is what the client
    should hear (a runner that is away is a 503, a refused peer a 502), so it survives
    the HTTP client's own exceptions: see `opener_failure`."""

    def __init__(self, message: str, code: ErrorCode = ErrorCode.UPSTREAM_REFUSED) -> None:
        super().__init__(code, message)


def opener_failure(exc: BaseException) -> OpenerError | None:
    """The OpenerError behind an HTTP client's connect failure, if that was the cause."""
    # The HTTP client re-raises its own exceptions inside `except` blocks, so the chain is
    # implicit (__context__) as often as explicit (__cause__).
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None or isinstance(seen, OpenerError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


class _OpenerBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, opener: Opener) -> None:
        self._opener = opener

    async def _open(self, limit: float | None) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(limit):
                sock = await self._opener()
        except TimeoutError:
            raise httpcore.ConnectTimeout("timed out opening a connection") from None
        except (OSError, OpenerError) as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        try:
            stream = await anyio.abc.SocketStream.from_socket(sock)
        except BaseException:
            sock.close()
            raise
        return AnyIOStream(stream)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return await self._open(timeout)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return await self._open(timeout)

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)


class OpenerTransport(httpx.AsyncHTTPTransport):
    """`httpx.AsyncHTTPTransport` (request/response mapping, exception mapping) over a
    connection pool whose connections come from `opener`."""

    def __init__(self, opener: Opener, limits: httpx.Limits | None = None) -> None:
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        self._pool = httpcore.AsyncConnectionPool(
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_OpenerBackend(opener),
        )


def check_owner(sock: socket.socket, owner_uid: int, what: str) -> socket.socket:
    """Return `sock` if the account serving its far end is `owner_uid`; otherwise close it
    and raise OpenerError. Nothing may be sent on a socket before this passed."""
    try:
        uid = peer_uid(sock)
    except (SocketOwnerError, OSError) as exc:
        sock.close()
        raise OpenerError(f"refusing {what}: {exc}") from None
    if uid != owner_uid:
        sock.close()
        raise OpenerError(f"refusing {what}: it is served by uid {uid}, not {owner_uid}")
    return sock


async def open_verified(address: str | tuple[str, int], owner_uid: int) -> socket.socket:
    """Connect to a Unix socket path or a loopback (host, port) and prove that `owner_uid`
    serves it before handing it out."""
    family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        await asyncio.get_running_loop().sock_connect(sock, address)
    except BaseException:
        sock.close()
        raise
    if family == socket.AF_INET:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return check_owner(sock, owner_uid, f"the connection to {address}")


P = TypeVar("P", bound=asyncio.BaseProtocol)


async def adopt(sock: socket.socket, protocol_factory: Callable[[], P]) -> P:
    """Put a connected socket an opener handed over under an event-loop transport (Unix
    or TCP, Nagle off), with the protocol `protocol_factory` makes. On failure the socket
    is closed and the error raised."""
    loop = asyncio.get_running_loop()
    try:
        if sock.family == socket.AF_UNIX:
            _, protocol = await loop.create_unix_connection(protocol_factory, sock=sock)
        else:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            _, protocol = await loop.create_connection(protocol_factory, sock=sock)
    except BaseException:
        sock.close()
        raise
    return protocol
