"""Which account is on the other end of a connected stream socket, asked of the kernel.

The control plane sends credentials (opencode's per-session password) and a person's
requests over sockets that a user's runner hands it or that it opened to a loopback
port. Before any byte goes out, the far end must be proven to belong to the session's
owner: otherwise another local account that bound the port first (or a hostile runner
naming someone else's socket) would receive them.

- ``AF_UNIX``: ``SO_PEERCRED``, recorded by the kernel when the connection was made.
- ``AF_INET``/``AF_INET6`` on loopback: the kernel's socket table lists the server side
  of *this* connection (local = our peer, remote = us) with the uid of the account that
  owns the listener it was accepted from, even before ``accept()``. Matching the exact
  4-tuple rules out a different listener on the same port. The lookup is one exact
  ``sock_diag`` netlink query (what ``ss`` uses), not a scan of ``/proc/net/tcp``, whose
  cost grows with every socket on the host (measured: 15 ms with a few thousand
  TIME-WAIT entries); the scan remains the fallback where netlink is unavailable.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
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
    try:
        return _diag_uid(sock.family, peer, ours)
    except OSError:
        pass  # no sock_diag here (e.g. a restricted container): scan the table instead
    server_side = (_proc_hex(peer, sock.family), _proc_hex(ours, sock.family))
    for line in _read_table(sock.family):
        fields = line.split()
        if (fields[1], fields[2]) == server_side:
            return int(fields[7])
    raise SocketOwnerError(f"no socket table entry for the server side of {ours} -> {peer}")


_NETLINK_SOCK_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NLM_F_REQUEST = 1
_NLMSG_ERROR = 2
_NLMSG = struct.Struct("=IHHII")
# inet_diag_req_v2: family, protocol, ext, pad, states; then inet_diag_sockid:
# sport, dport (big-endian), src[4], dst[4] (network order), interface, cookie[2].
_DIAG_REQ = struct.Struct("=BBBBI")
_SOCKID = struct.Struct(">HH16s16s")
_SOCKID_TAIL = struct.Struct("=III")
_NO_COOKIE = 0xFFFFFFFF
_TCP_SYN_RECV = 3
_TCP_LISTEN = 10
# inet_diag_msg: family, state, timer, retrans, sockid (48 bytes), expires, rqueue,
# wqueue, uid, inode.
_DIAG_MSG = struct.Struct("=BBBB48sIIIII")


def _packed(address: tuple[str, int] | tuple[str, int, int, int], family: int) -> bytes:
    return socket.inet_pton(family, address[0]).ljust(16, b"\0")


def _diag_lookup(
    family: int,
    local: tuple[str, int] | tuple[str, int, int, int],
    remote: tuple[str, int] | tuple[str, int, int, int],
) -> tuple[tuple[int, int, bytes, bytes], int, int]:
    """(socket id found, TCP state, uid) of the kernel's exact lookup for these ends."""
    request = (
        _DIAG_REQ.pack(family, socket.IPPROTO_TCP, 0, 0, 0xFFFFFFFF)
        + _SOCKID.pack(local[1], remote[1], _packed(local, family), _packed(remote, family))
        + _SOCKID_TAIL.pack(0, _NO_COOKIE, _NO_COOKIE)
    )
    header = _NLMSG.pack(_NLMSG.size + len(request), _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST, 1, 0)
    with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, _NETLINK_SOCK_DIAG) as nl:
        nl.settimeout(2)
        nl.sendall(header + request)
        reply = nl.recv(8192)
    _length, kind, _flags, _seq, _pid = _NLMSG.unpack_from(reply)
    if kind == _NLMSG_ERROR:
        errno = -struct.unpack_from("=i", reply, _NLMSG.size)[0]
        if errno == 2:  # ENOENT: the kernel knows no such socket
            raise SocketOwnerError(f"no socket for the server side of {remote} -> {local}")
        raise OSError(errno, "sock_diag lookup failed")
    if kind != _SOCK_DIAG_BY_FAMILY:
        raise OSError(0, f"unexpected sock_diag answer type {kind}")
    message = _DIAG_MSG.unpack_from(reply, _NLMSG.size)
    found: tuple[int, int, bytes, bytes] = _SOCKID.unpack_from(message[4])
    return found, int(message[1]), int(message[8])


def _diag_uid(
    family: int,
    local: tuple[str, int] | tuple[str, int, int, int],
    remote: tuple[str, int] | tuple[str, int, int, int],
) -> int:
    """uid of the TCP socket whose local and remote ends are exactly these (one lookup in
    the kernel's connection hash, including connections not yet accepted)."""
    wanted = (local[1], remote[1], _packed(local, family), _packed(remote, family))
    found, state, uid = _diag_lookup(family, local, remote)
    # The kernel falls back to the *listener* on that port when no connection matches:
    # only an answer naming exactly this connection counts.
    if found != wanted:
        raise SocketOwnerError(f"no socket for the server side of {remote} -> {local}")
    if state != _TCP_SYN_RECV:
        return uid
    # Not yet a full socket (a server using TCP_DEFER_ACCEPT, like opencode's, keeps it
    # so until data arrives): sock_diag reports uid 0 for it. Its owner is the owner of
    # the listener it belongs to, the one on exactly this address and port.
    anywhere = ("::" if family == socket.AF_INET6 else "0.0.0.0", 0)
    found, state, uid = _diag_lookup(family, local, anywhere)
    if state != _TCP_LISTEN or found[0] != local[1] or found[2] != _packed(local, family):
        raise SocketOwnerError(f"no listener for the pending connection {remote} -> {local}")
    return uid


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
