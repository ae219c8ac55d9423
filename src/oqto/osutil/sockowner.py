"""Which account is on the other end of a connected stream socket, asked of the kernel.

The control plane sends credentials (opencode's per-session password) and a person's
requests over sockets that a user's runner hands it or that it opened to a loopback
port. Before any byte goes out, the far end must be proven to belong to the session's
owner: otherwise another local account that bound the port first (or a hostile runner
naming someone else's socket) would receive them.

- ``AF_UNIX``: ``SO_PEERCRED``, recorded by the kernel when the connection was made.
- ``AF_INET``/``AF_INET6`` on loopback: the kernel's socket table (``/proc/net/tcp*``)
  lists the server side of *this* connection (local = our peer, remote = us) with the uid
  of the account that owns the listener it was accepted from, even before ``accept()``.
  Matching the exact 4-tuple rules out a different listener on the same port.
"""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

from oqto.osutil.peercred import peer_credentials

__all__ = ["SocketOwnerError", "loopback_listen_ports", "peer_uid"]

_PROC_NET = Path("/proc/net")


class SocketOwnerError(Exception):
    """The socket is not a connected stream socket whose owner we can establish."""


def _proc_hex(address: tuple[str, int] | tuple[str, int, int, int], family: int) -> str:
    """The `/proc/net/tcp*` spelling of an address: the IP as the kernel's in-memory
    32-bit words in host (little-endian) order, then the port in hex."""
    packed = socket.inet_pton(family, address[0])
    words = "".join(
        f"{int.from_bytes(packed[i : i + 4], 'little'):08X}" for i in range(0, len(packed), 4)
    )
    return f"{words}:{address[1]:04X}"


def _table(family: int) -> str:
    return "tcp6" if family == socket.AF_INET6 else "tcp"


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _connected_stream(sock: socket.socket) -> None:
    if sock.type != socket.SOCK_STREAM:
        raise SocketOwnerError(f"not a stream socket (type {sock.type})")
    if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
        raise SocketOwnerError("a listening socket, not a connection")
    try:
        sock.getpeername()
    except OSError:
        raise SocketOwnerError("not connected") from None


def peer_uid(sock: socket.socket) -> int:
    """The uid of whoever serves the far end of `sock` (a connected Unix or loopback TCP
    stream socket). Raises SocketOwnerError for anything else."""
    _connected_stream(sock)
    if sock.family == socket.AF_UNIX:
        return peer_credentials(sock).uid
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        raise SocketOwnerError(f"unsupported socket family {sock.family}")
    peer, ours = sock.getpeername(), sock.getsockname()
    if not _is_loopback(peer[0]):
        raise SocketOwnerError(f"peer {peer[0]} is not on loopback")
    server_side = (_proc_hex(peer, sock.family), _proc_hex(ours, sock.family))
    for line in _read_table(sock.family):
        fields = line.split()
        if (fields[1], fields[2]) == server_side:
            return int(fields[7])
    raise SocketOwnerError(f"no socket table entry for the server side of {ours} -> {peer}")


def _read_table(family: int) -> list[str]:
    try:
        text = (_PROC_NET / _table(family)).read_text()
    except OSError as exc:
        raise SocketOwnerError(f"cannot read the kernel's socket table: {exc}") from None
    return text.splitlines()[1:]


def loopback_listen_ports(pid: int) -> list[int]:
    """Ports on 127.0.0.1 on which process `pid` itself holds a listening socket."""
    inodes = set()
    fd_dir = Path("/proc") / str(pid) / "fd"
    try:
        entries = list(fd_dir.iterdir())
    except OSError:
        return []
    for entry in entries:
        try:
            target = entry.readlink().name
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    ports = []
    for line in _read_table(socket.AF_INET):
        fields = line.split()
        host_hex, _, port_hex = fields[1].partition(":")
        if fields[3] == "0A" and host_hex == "0100007F" and int(fields[9]) in inodes:
            ports.append(int(port_hex, 16))
    return ports
