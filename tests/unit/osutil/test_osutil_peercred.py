from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import uvloop
from tests.unit.osutil.osutil_support import AsUser

from oqto.osutil.accounts import LinuxAccount
from oqto.osutil.peercred import (
    PeerCred,
    PeerPolicy,
    from_transport,
    peer_credentials,
    runner_policy,
)


def test_socketpair_reports_our_own_credentials() -> None:
    left, right = socket.socketpair(socket.AF_UNIX)
    with left, right:
        cred = peer_credentials(left)
    assert cred == PeerCred(pid=os.getpid(), uid=os.geteuid(), gid=os.getegid())


def test_non_unix_socket_is_rejected() -> None:
    with socket.socket(socket.AF_INET) as sock, pytest.raises(ValueError, match="AF_UNIX"):
        peer_credentials(sock)


@pytest.mark.parametrize(
    "loop_factory", [asyncio.new_event_loop, uvloop.new_event_loop], ids=["asyncio", "uvloop"]
)
def test_from_transport_in_connection_made(
    tmp_path: Path, loop_factory: Callable[[], asyncio.AbstractEventLoop]
) -> None:
    """Also on uvloop (`oqto serve`'s loop), whose transports hand out a PseudoSocket."""
    path = str(tmp_path / "s.sock")

    async def main() -> PeerCred:
        seen: asyncio.Future[PeerCred] = asyncio.get_running_loop().create_future()

        class Capture(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                seen.set_result(from_transport(transport))
                transport.close()

        server = await asyncio.get_running_loop().create_unix_server(Capture, path)
        async with server:
            _, writer = await asyncio.open_unix_connection(path)
            cred = await asyncio.wait_for(seen, 10)
            writer.close()
            return cred

    with asyncio.Runner(loop_factory=loop_factory) as runner:
        assert runner.run(main()) == PeerCred(os.getpid(), os.geteuid(), os.getegid())


class _NoSocketTransport(asyncio.BaseTransport):
    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


def test_from_transport_without_socket() -> None:
    with pytest.raises(ValueError, match="no socket"):
        from_transport(_NoSocketTransport())


def test_runner_policy_allows_own_root_and_service_only() -> None:
    policy = runner_policy(own_uid=2001, service_uid=998)
    assert policy == PeerPolicy(frozenset({2001, 0, 998}))
    for uid, allowed in [(2001, True), (0, True), (998, True), (2002, False), (65534, False)]:
        assert policy.check(PeerCred(pid=1, uid=uid, gid=uid)) is allowed


def test_runner_policy_without_service_account() -> None:
    policy = runner_policy(own_uid=2001, service_uid=None)
    assert policy.allowed_uids == frozenset({2001, 0})
    assert not policy.check(PeerCred(pid=1, uid=998, gid=998))


# Connects to argv[1], then blocks until the server hangs up.
CONNECT_AND_WAIT = """
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.recv(1)
"""


def test_reports_another_accounts_uid(
    public_dir: Path, make_account: Callable[[], LinuxAccount], as_user: AsUser
) -> None:
    peer = make_account()
    path = public_dir / "s.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        path.chmod(0o666)
        server.listen(1)
        server.settimeout(30)
        child = as_user.popen(peer, CONNECT_AND_WAIT, str(path))
        try:
            conn, _ = server.accept()
            with conn:
                cred = peer_credentials(conn)
        finally:
            _, stderr = child.communicate(timeout=30)
    assert child.returncode == 0, stderr
    # setpriv execs the interpreter, so the connecting pid is the child's pid.
    assert cred == PeerCred(pid=child.pid, uid=peer.uid, gid=peer.gid)
    policy = runner_policy(own_uid=peer.uid + 1, service_uid=None)
    assert not policy.check(cred)
