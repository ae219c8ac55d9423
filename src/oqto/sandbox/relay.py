"""The in-sandbox init with relays: the command runs as its child while each relay
accepts on one socket (a Unix socket path, or a loopback port) and splices every
connection to a new one to the other side, both directions, half-close kept. Signals
are passed on to the child, which dies with this process; its status is the exit code."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

import uvloop

from oqto.osutil.unixsock import bind_unix_socket, remove_stale_socket

if TYPE_CHECKING:
    from oqto.sandbox.init import Relay

MAX_CONNECTIONS = 1024
# What a client may send before its upstream connection exists.
MAX_EARLY_BYTES = 1 << 20
_PR_SET_PDEATHSIG = 1
_FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


# -- listening -----------------------------------------------------------------------------


def bind(where: str | int) -> socket.socket:
    """A listening socket: a Unix socket at a path (0600, a stale socket file replaced), or
    127.0.0.1:port."""
    if isinstance(where, int):
        # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted sockets only then.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", where))
    else:
        remove_stale_socket(where)
        sock = bind_unix_socket(where)
    sock.listen(128)
    sock.setblocking(False)
    return sock


# -- splicing ------------------------------------------------------------------------------


class _Side(asyncio.Protocol):
    """One end of a relayed connection; what it receives is written to its peer. Each
    direction closes on its own (half-close); the pair closes when both have, or when
    either end is lost."""

    def __init__(
        self,
        on_made: Callable[[_Side], None] | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.transport: asyncio.Transport | None = None
        self.peer: _Side | None = None
        self.got_eof = False
        self._early: list[bytes] = []  # received before the peer existed
        self._early_bytes = 0
        self._on_made = on_made
        self._on_close = on_close

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)
        if self._on_made is not None:
            self._on_made(self)

    def attach(self, peer: _Side) -> None:
        """Pair with `peer` and pass on what arrived before it existed."""
        self.peer, peer.peer = peer, self
        assert peer.transport is not None
        for data in self._early:
            peer.transport.write(data)
        self._early.clear()
        if self.got_eof:
            self._pass_eof()

    def data_received(self, data: bytes) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.write(data)
            return
        self._early.append(data)
        self._early_bytes += len(data)
        if self._early_bytes > MAX_EARLY_BYTES and self.transport is not None:
            self.transport.abort()

    def eof_received(self) -> bool:
        self.got_eof = True
        if self.peer is None:
            return True  # passed on by attach()
        return self._pass_eof()

    def _pass_eof(self) -> bool:
        peer = self.peer
        if peer is None or peer.transport is None or peer.got_eof:
            self._close_both()
            return False
        if peer.transport.can_write_eof():
            peer.transport.write_eof()
        return True  # keep writing the other way

    def connection_lost(self, exc: Exception | None) -> None:
        self._close_both()
        if self._on_close is not None:
            self._on_close()
            self._on_close = None

    def pause_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.resume_reading()

    def _close_both(self) -> None:
        for side in (self, self.peer):
            if side is not None and side.transport is not None:
                side.transport.close()


class RelayServer:
    """Accepts on one socket and splices each connection to a new one to `connect`."""

    def __init__(self, relay: Relay, sock: socket.socket, limit: int = MAX_CONNECTIONS) -> None:
        self.relay = relay
        self.sock = sock
        self.limit = limit
        self.active = 0
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        if self.sock.family == socket.AF_UNIX:
            self._server = await loop.create_unix_server(self._accepted, sock=self.sock)
        else:
            self._server = await loop.create_server(self._accepted, sock=self.sock)

    def close(self) -> None:
        if self._server is not None:
            self._server.close()

    def _accepted(self) -> _Side:
        return _Side(on_made=self._connected, on_close=self._released)

    def _connected(self, client: _Side) -> None:
        assert client.transport is not None
        self.active += 1
        if self.active > self.limit:
            client.transport.abort()
            return
        task = asyncio.ensure_future(self._pair(client))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _released(self) -> None:
        self.active -= 1

    async def _pair(self, client: _Side) -> None:
        assert client.transport is not None
        loop = asyncio.get_running_loop()
        upstream = _Side()
        try:
            if isinstance(self.relay.connect, int):
                await loop.create_connection(lambda: upstream, "127.0.0.1", self.relay.connect)
            else:
                await loop.create_unix_connection(lambda: upstream, self.relay.connect)
        except OSError:
            client.transport.abort()
            return
        if client.transport.is_closing():
            assert upstream.transport is not None
            upstream.transport.close()
            return
        client.attach(upstream)


# -- the child -----------------------------------------------------------------------------


def spawn(command: list[str], execute: Callable[[list[str]], int]) -> int:
    """Fork and exec `command`, which gets SIGKILL should this process die."""
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() == parent:  # else it died before the line above
                execute(command)
        finally:  # never back into the parent's code
            os._exit(127)
    return pid


async def supervise(pid: int, servers: list[RelayServer]) -> int:
    """Serve the relays until the child exits; its exit code (128+N for signal N)."""
    loop = asyncio.get_running_loop()
    for sig in _FORWARDED:
        loop.add_signal_handler(sig, _forward, pid, sig)
    exited: asyncio.Future[int] = loop.create_future()
    pidfd = os.pidfd_open(pid)

    def reap() -> None:
        _, status = os.waitpid(pid, 0)
        loop.remove_reader(pidfd)
        code = os.waitstatus_to_exitcode(status)
        exited.set_result(code if code >= 0 else 128 - code)

    loop.add_reader(pidfd, reap)
    try:
        for server in servers:
            await server.start()
        return await exited
    finally:
        for server in servers:
            server.close()
        os.close(pidfd)


def _forward(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def run(command: list[str], relays: list[Relay], execute: Callable[[list[str]], int]) -> int:
    """Serve `relays` while `command` runs (started with `execute`); its exit code."""
    try:
        socks = [bind(relay.listen) for relay in relays]
    except OSError as exc:
        print(f"oqto-sandbox-init: cannot listen: {exc}", file=sys.stderr)
        return 1
    servers = [RelayServer(r, s) for r, s in zip(relays, socks, strict=True)]
    # Forked before the event loop exists; the listening sockets are close-on-exec.
    pid = spawn(command, execute)
    # uvloop: every proxied request to a sandboxed agent crosses this relay, and its
    # transports cost half what asyncio's do (bench/README.md, the data plane).
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(supervise(pid, servers))
