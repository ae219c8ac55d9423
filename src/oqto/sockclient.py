"""Connections an *opener* hands over, proven to be served by the right account.

Nothing here resolves a host or a path: the opener decides what a new connection is
(a socket the user's runner passed over its socket, or one we opened to a loopback port)
and proves who serves it before returning it; `adopt` then puts it under an event-loop
transport for our HTTP client (`oqto.httpclient`) or the WebSocket splice.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import TypeVar

from oqto.osutil.sockowner import SocketOwnerError, peer_uid
from oqto.protocol.errors import ErrorCode, OqtoError

Opener = Callable[[], Awaitable[socket.socket]]


class OpenerError(OqtoError):
    """The opener could not provide a verified connection. `code` is what the client
    should hear (a runner that is away is a 503, a refused peer a 502)."""

    def __init__(self, message: str, code: ErrorCode = ErrorCode.UPSTREAM_REFUSED) -> None:
        super().__init__(code, message)


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
