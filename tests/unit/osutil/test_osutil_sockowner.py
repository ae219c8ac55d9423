"""Who serves the far end of a socket, asked of the kernel: the check the control plane
makes before it sends anything on a connection a runner passed it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from oqto.osutil import sockowner
from oqto.osutil.sockowner import SocketOwnerError, loopback_listen_ports, peer_uid
from oqto.sockclient import OpenerError, check_owner

NOBODY = 65534
LISTENER = (
    "import socket, sys\n"
    "s = socket.socket(); s.bind(('127.0.0.1', 0))\n"
    "if sys.argv[1] == 'defer':\n"
    "    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, 30)\n"
    "s.listen()\n"
    "print(s.getsockname()[1], flush=True); sys.stdin.read()\n"
)


@pytest.fixture(params=["plain", "defer"])
def nobodys_port(request: pytest.FixtureRequest) -> Iterator[int]:
    """A loopback listener owned by another account. With TCP_DEFER_ACCEPT (as opencode's
    server does) the server side stays a pending connection until data arrives, which
    sock_diag reports with uid 0."""
    if os.geteuid() != 0:
        pytest.skip("needs root to listen as another account")
    proc = subprocess.Popen(
        [
            *("setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"),
            *(sys.executable, "-c", LISTENER, request.param),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    try:
        yield int(proc.stdout.readline())
    finally:
        proc.kill()
        proc.wait()


def test_unix_peer_is_read_from_so_peercred() -> None:
    a, b = socket.socketpair()
    with a, b:
        assert peer_uid(a) == os.getuid()


@pytest.mark.parametrize("netlink", [True, False], ids=["sock_diag", "proc-net-tcp"])
def test_tcp_peer_is_the_listeners_owner_even_before_accept(
    nobodys_port: int, netlink: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not netlink:

        def unavailable(*_args: object) -> int:
            raise OSError(93, "protocol not supported")

        monkeypatch.setattr(sockowner, "_diag_uid", unavailable)
    with socket.create_connection(("127.0.0.1", nobodys_port)) as conn:
        assert peer_uid(conn) == NOBODY
        with pytest.raises(OpenerError, match=f"served by uid {NOBODY}, not {os.getuid()}"):
            check_owner(conn, os.getuid(), "the test connection")


def test_the_lookup_is_for_this_connection_not_any_on_the_port(nobodys_port: int) -> None:
    # The kernel answers a lookup that matches no connection with the port's listener;
    # that must not pass for the connection.
    with pytest.raises(SocketOwnerError):
        sockowner._diag_uid(socket.AF_INET, ("127.0.0.1", nobodys_port), ("127.0.0.1", 1))


def test_what_is_not_a_connection_is_refused() -> None:
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        with pytest.raises(SocketOwnerError, match="listening"):
            peer_uid(listening)
        with socket.socket() as unconnected, pytest.raises(SocketOwnerError, match="connected"):
            peer_uid(unconnected)
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as datagram,
        pytest.raises(SocketOwnerError, match="stream"),
    ):
        peer_uid(datagram)


def test_listen_ports_of_a_process_are_read_off_its_own_sockets() -> None:
    with socket.socket() as mine:
        mine.bind(("127.0.0.1", 0))
        mine.listen()
        assert mine.getsockname()[1] in loopback_listen_ports(os.getpid())
    assert loopback_listen_ports(2**22 + 12345) == []  # no such process
