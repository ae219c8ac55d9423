"""The in-sandbox init, run as its own process: exec without relays, both relays with
half-close, signal forwarding, its exit status, and its child dying with it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import socketserver
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from oqto.sandbox.init import Relay
from oqto.sandbox.relay import RelayServer, bind

INIT = [sys.executable, "-m", "oqto.sandbox.init"]
# A child that says it is ready and lives until its stdin closes.
WAITER = [sys.executable, "-c", "import sys; print('ready', flush=True); sys.stdin.read()"]


class _Echo(socketserver.BaseRequestHandler):
    """Reads to EOF, then answers everything at once: only works if EOF got through while
    the other direction stayed open."""

    def handle(self) -> None:
        data = b""
        while chunk := self.request.recv(65536):
            data += chunk
        self.request.sendall(b"echo:" + data)


class _TCP(socketserver.ThreadingTCPServer):
    daemon_threads = True


class _Unix(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True


@contextlib.contextmanager
def serving(server: socketserver.BaseServer) -> Iterator[socketserver.BaseServer]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for(condition: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


@contextlib.contextmanager
def init(*args: str, command: list[str] = WAITER) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [*INIT, *args, "--", *command],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read() if proc.stderr else ""
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()


def supervised(script: str) -> contextlib.AbstractContextManager[subprocess.Popen[str]]:
    """A Python script as the init's child (a relay makes the init supervise, not exec)."""
    relay = ("--egress-socket", "/nonexistent", "--egress-port", str(free_port()))
    return init(*relay, command=[sys.executable, "-c", script])


def round_trip(sock: socket.socket, payload: bytes) -> bytes:
    sock.sendall(payload)
    sock.shutdown(socket.SHUT_WR)
    got = b""
    while chunk := sock.recv(65536):
        got += chunk
    return got


def test_without_relays_the_init_becomes_the_command() -> None:
    script = "import os; print(os.getpid()); print(open('/proc/self/status').read())"
    done = subprocess.run(
        [*INIT, "--", sys.executable, "-c", script], capture_output=True, text=True, timeout=30
    )
    pid, status = done.stdout.split("\n", 1)
    assert "Seccomp:\t2" in status and "NoNewPrivs:\t1" in status
    # Same process (exec, not a child): the pid the command sees is the init's own.
    proc = subprocess.Popen([*INIT, "--", sys.executable, "-c", script], stdout=subprocess.PIPE)
    out, _ = proc.communicate(timeout=30)
    assert int(out.split(b"\n", 1)[0]) == proc.pid
    assert done.returncode == 0 and int(pid) > 0


def test_agent_relay_unix_to_loopback(tmp_path: Path) -> None:
    port = free_port()
    sock_path = tmp_path / "agent.sock"
    # A stale socket file from a previous run is replaced.
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(sock_path))
    stale.close()
    with (
        serving(_TCP(("127.0.0.1", port), _Echo)),
        init("--agent-socket", str(sock_path), "--agent-port", str(port)) as proc,
    ):
        assert stat.S_IMODE(sock_path.stat().st_mode) == 0o600
        payload = os.urandom(300_000)
        for _ in range(3):  # a few connections, one after another
            with socket.socket(socket.AF_UNIX) as c:
                c.connect(str(sock_path))
                assert round_trip(c, payload) == b"echo:" + payload
        assert proc.stdin is not None
        proc.stdin.close()  # the child ends: the init follows with its status
        assert proc.wait(10) == 0


def test_egress_relay_loopback_to_unix(tmp_path: Path) -> None:
    port = free_port()
    sock_path = tmp_path / "egress.sock"
    with (
        serving(_Unix(str(sock_path), _Echo)),
        init("--egress-socket", str(sock_path), "--egress-port", str(port)),
        socket.create_connection(("127.0.0.1", port), timeout=10) as c,
    ):
        assert round_trip(c, b"CONNECT example.com:443") == b"echo:CONNECT example.com:443"


def test_an_unreachable_upstream_closes_the_client(tmp_path: Path) -> None:
    sock_path = tmp_path / "agent.sock"
    with (
        init("--agent-socket", str(sock_path), "--agent-port", str(free_port())),
        socket.socket(socket.AF_UNIX) as c,
    ):
        c.settimeout(10)
        c.connect(str(sock_path))
        assert c.recv(1) == b""


def test_signals_are_forwarded_and_the_status_kept() -> None:
    trap = (
        "import signal, sys; signal.signal(signal.SIGTERM, lambda *a: sys.exit(3)); "
        "print('ready', flush=True); signal.pause()"
    )
    with supervised(trap) as proc:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 3


def test_a_signalled_child_gives_128_plus_n() -> None:
    die = "import os, signal; print('ready', flush=True); os.kill(os.getpid(), signal.SIGKILL)"
    with supervised(die) as proc:
        assert proc.wait(10) == 128 + signal.SIGKILL


def test_the_child_dies_with_the_init() -> None:
    report = "import os; print('ready', flush=True); print(os.getpid(), flush=True); input()"
    with supervised(report) as proc:
        assert proc.stdout is not None
        child = int(proc.stdout.readline())
        proc.kill()
        proc.wait(10)
        wait_for(lambda: not Path(f"/proc/{child}").exists() or _zombie(child))


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_usage_errors() -> None:
    for args in (["--"], ["--agent-socket", "/x", "--", "true"], ["--bogus", "1", "--", "true"]):
        done = subprocess.run([*INIT, *args], capture_output=True, text=True, timeout=30)
        assert done.returncode == 2 and "usage:" in done.stderr


def test_the_init_imports_nothing_heavy() -> None:
    heavy = "{'pydantic', 'fastapi', 'httpx', 'starlette', 'sqlalchemy', 'asyncio'}"
    for module, allowed in (("oqto.sandbox.init", set()), ("oqto.sandbox.relay", {"asyncio"})):
        loaded = "{m.split('.')[0] for m in sys.modules}"
        probe = f"import sys, {module}; print(sorted({loaded} & {heavy}))"
        done = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, check=True
        )
        # Without relays the init execs at once: not even asyncio is worth its start-up.
        assert done.stdout.strip() == str(sorted(allowed))


async def test_connections_beyond_the_limit_are_refused(tmp_path: Path) -> None:
    port = free_port()
    path = tmp_path / "a.sock"
    with serving(_TCP(("127.0.0.1", port), _Echo)):
        server = RelayServer(Relay(listen=str(path), connect=port), bind(str(path)), limit=1)
        await server.start()
        try:
            r1, w1 = await asyncio.open_unix_connection(str(path))
            r2, w2 = await asyncio.open_unix_connection(str(path))
            assert await asyncio.wait_for(r2.read(), 10) == b""  # the second: closed at once
            w1.write(b"one")
            w1.write_eof()
            assert await asyncio.wait_for(r1.read(), 10) == b"echo:one"
            for w in (w1, w2):
                w.close()
        finally:
            server.close()


pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
