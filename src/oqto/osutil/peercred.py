"""Who is on the other end of a Unix socket (``SO_PEERCRED``), and may they talk to us.

The kernel records the peer's credentials when the connection is made (or the
socketpair created), so they cannot be forged by the client. Filesystem
permissions (see :mod:`oqto.osutil.acl`) already keep other accounts away
from a runner's socket; checking the peer uid again on accept is the second,
independent line of defence.
"""

from __future__ import annotations

import socket
import struct
from asyncio import BaseTransport
from asyncio.trsock import TransportSocket
from dataclasses import dataclass

__all__ = [
    "PeerCred",
    "PeerPolicy",
    "from_transport",
    "peer_credentials",
    "runner_policy",
]

# struct ucred { pid_t pid; uid_t uid; gid_t gid; }: same size as "3i", but uid_t
# and gid_t are unsigned, so decode them as such (4294967295 must not become -1).
_UCRED = struct.Struct("iII")


@dataclass(frozen=True)
class PeerCred:
    """Credentials of the connecting process as seen by the kernel.

    ``pid`` is 0 when the peer lives in a PID namespace we cannot see.
    """

    pid: int
    uid: int
    gid: int


def peer_credentials(sock: socket.socket | TransportSocket) -> PeerCred:
    """Read the peer credentials of a connected ``AF_UNIX`` socket.

    Raises ValueError for other socket families: Linux answers ``SO_PEERCRED``
    on e.g. TCP sockets with a meaningless overflow uid instead of failing,
    which must never be mistaken for an identity.
    """
    if sock.family != socket.AF_UNIX:
        raise ValueError(f"SO_PEERCRED needs an AF_UNIX socket, got family {sock.family}")
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
    pid, uid, gid = _UCRED.unpack(raw)
    return PeerCred(pid=pid, uid=uid, gid=gid)


def from_transport(transport: BaseTransport) -> PeerCred:
    """:func:`peer_credentials` for an asyncio transport (e.g. in ``connection_made``)."""
    sock = transport.get_extra_info("socket")
    if sock is None:
        raise ValueError("transport exposes no socket; cannot read peer credentials")
    # asyncio hands out a TransportSocket, uvloop (`oqto serve`'s loop) a PseudoSocket; both
    # carry the real socket's family and getsockopt, which is all peer_credentials reads.
    if not (hasattr(sock, "family") and callable(getattr(sock, "getsockopt", None))):
        raise TypeError(f"transport socket has unexpected type {type(sock).__name__}")
    return peer_credentials(sock)


@dataclass(frozen=True)
class PeerPolicy:
    """Allow-list of peer uids."""

    allowed_uids: frozenset[int]

    def check(self, cred: PeerCred) -> bool:
        return cred.uid in self.allowed_uids


def runner_policy(own_uid: int, service_uid: int | None) -> PeerPolicy:
    """Peers a user's runner accepts: the user itself, root, and the service account.

    ``service_uid`` is None in single-user setups where there is no separate
    service account.
    """
    allowed = {own_uid, 0}
    if service_uid is not None:
        allowed.add(service_uid)
    return PeerPolicy(frozenset(allowed))
