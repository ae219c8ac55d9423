"""Escape attempts against real bubblewrap with build_argv's command line and the init, as
the caller's account and (when we are root) as an unprivileged one. Fake homes and
workspaces live in temporary directories; each attempt has a control that succeeds
without the rule it tests, so none of these can pass by accident."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from oqto.protocol.sessions import ServiceName
from oqto.sandbox import preflight
from oqto.sandbox.bwrap import SandboxContext, build_argv
from oqto.sandbox.policy import NetworkMode, SandboxPolicy, SandboxRefused

BWRAP = shutil.which("bwrap")
pytestmark = pytest.mark.skipif(BWRAP is None, reason="bubblewrap is not installed")
NOBODY = 65534
ACCOUNTS = ["self", "nobody"] if os.geteuid() == 0 else ["self"]


def wait_for(condition: Callable[[], object], timeout: float = 15.0) -> object:
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)
    return result


@dataclass
class World:
    root: Path
    home: Path
    workspace: Path
    runtime: Path
    uid: int | None  # None: our own account

    def policy(self, **kw: object) -> SandboxPolicy:
        base: dict[str, object] = {
            "deny_read": (self.home / ".ssh", self.home / ".gnupg", self.home / ".netrc"),
            "allow_write": (self.home / ".cache" / "opencode",),
            "deny_write": (self.workspace / ".oqto",),
        }
        return SandboxPolicy(enabled=True, profile="test", **(base | kw))

    def ctx(self, service: ServiceName = ServiceName.AGENT) -> SandboxContext:
        return SandboxContext(
            home=self.home,
            workspace=self.workspace,
            service=service,
            own_dirs=(self.runtime / "s1" / service.value,),
            hidden=(self.runtime,),
        )

    def argv(self, policy: SandboxPolicy, *command: str, init: tuple[str, ...] = ()) -> list[str]:
        assert BWRAP is not None
        sandbox = build_argv(BWRAP, policy, self.ctx())
        return [*sandbox, sys.executable, "-m", "oqto.sandbox.init", *init, "--", *command]

    def popen_kw(self) -> dict[str, Any]:
        env = {"HOME": str(self.home), "PATH": os.environ["PATH"]}
        kw: dict[str, Any] = {"env": env, "text": True}
        if self.uid is not None:
            kw |= {"user": self.uid, "group": self.uid, "extra_groups": []}
        return kw

    def sh(
        self, script: str, policy: SandboxPolicy | None = None
    ) -> subprocess.CompletedProcess[str]:
        argv = self.argv(policy or self.policy(), "sh", "-c", script)
        return subprocess.run(argv, capture_output=True, timeout=60, **self.popen_kw())


@pytest.fixture(params=ACCOUNTS)
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    uid = NOBODY if request.param == "nobody" else None
    root = Path(tempfile.mkdtemp(prefix="oqto-bwrap-", dir="/tmp"))
    try:
        home, other = root / "home" / "alice", root / "home" / "bob"
        workspace, runtime = home / "ws", root / "run"
        for d in (
            home / ".ssh",
            other,
            workspace,
            runtime / "s1" / "agent",
            runtime / "s2" / "agent",
        ):
            d.mkdir(parents=True)
        (home / ".ssh" / "id_ed25519").write_text("PRIVATE KEY")
        (other / "notes").write_text("bob's")
        (runtime / "s2" / "agent" / "agent.sock").write_text("another session")
        # What build_argv creates, made here so an unprivileged account owns it.
        for d in (home / ".config" / "oqto", workspace / ".oqto", home / ".cache" / "opencode"):
            d.mkdir(parents=True)
        if uid is not None:
            for path in (root, *root.rglob("*")):
                os.chown(path, uid, uid, follow_symlinks=False)
        yield World(root, home, workspace, runtime, uid)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_secrets_and_other_homes_are_hidden(world: World) -> None:
    key, other = world.home / ".ssh" / "id_ed25519", world.root / "home" / "bob" / "notes"
    run = world.sh(f"cat {key}; cat {other}; ls -A {world.home / '.ssh'}; ls {world.runtime}")
    assert "PRIVATE KEY" not in run.stdout and "bob's" not in run.stdout
    assert "s2" not in run.stdout  # other sessions' runtime dirs
    assert run.stderr.count("No such file") == 2
    # Control: without the rules both are readable.
    assert "PRIVATE KEY" in world.sh(f"cat {key}", world.policy(deny_read=())).stdout


def test_a_symlink_in_the_workspace_does_not_reveal_a_hidden_file(world: World) -> None:
    key = world.home / ".ssh" / "id_ed25519"
    run = world.sh(f"ln -s {key} leak && cat leak")
    assert "PRIVATE KEY" not in run.stdout and "No such file" in run.stderr
    (world.workspace / "leak").unlink()
    (world.workspace / "leak").symlink_to(key)  # planted from outside before the start
    assert "PRIVATE KEY" not in world.sh("cat leak").stdout


def test_writes_only_where_allowed(world: World) -> None:
    outside = world.root / "outside"
    probe = Path(sys.prefix) / "oqto-sandbox-probe"  # a host dir we may write outside
    run = world.sh(
        f"echo ok > {world.workspace}/a && cat {world.workspace}/a;"
        f"echo ok > {world.home}/.cache/opencode/b && echo cache-ok;"
        f"echo x > {world.home}/.bashrc || echo bashrc-refused;"
        f"echo x > {world.workspace}/.oqto/sandbox.toml || echo oqto-refused;"
        f"echo x > {world.home}/.config/oqto/sandbox.toml || echo config-refused;"
        f"touch {probe} || echo outside-refused;"
        f"mkdir {outside}"  # under /tmp: the sandbox's own tmpfs, gone with it
    )
    for word in (
        "ok",
        "cache-ok",
        "bashrc-refused",
        "oqto-refused",
        "config-refused",
        "outside-refused",
    ):
        assert word in run.stdout.split(), run.stderr
    assert not (world.home / ".bashrc").exists() and not outside.exists() and not probe.exists()
    assert not (world.workspace / ".oqto" / "sandbox.toml").exists()


def test_pid_namespace_hides_host_processes(world: World) -> None:
    script = (
        f"test -e /proc/{os.getpid()} && echo visible || echo hidden; ls /proc | grep -c '^[0-9]'"
    )
    confined = world.sh(script).stdout.split()
    assert confined[0] == "hidden" and int(confined[1]) < 10
    assert world.sh(script, world.policy(pid_namespace=False)).stdout.split()[0] == "visible"


@pytest.mark.parametrize("mode", [NetworkMode.ALLOWLIST, NetworkMode.NONE])
def test_the_host_loopback_is_unreachable(world: World, mode: NetworkMode) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        probe = (
            f'{sys.executable} -c "import socket; s = socket.socket(); s.settimeout(5); '
            f"print(s.connect_ex(('127.0.0.1', {port})))\""
        )
        assert world.sh(probe, world.policy(network=mode)).stdout.strip() != "0"
        assert world.sh(probe, world.policy(network=NetworkMode.HOST)).stdout.strip() == "0"


def test_no_privileges_and_no_nested_namespaces(world: World) -> None:
    run = world.sh(
        "grep -E '^(NoNewPrivs|CapEff|Seccomp):' /proc/self/status;"
        "unshare -U true || echo nested-refused"
    )
    status = dict(line.split(":\t") for line in run.stdout.splitlines() if ":\t" in line)
    assert status == {"NoNewPrivs": "1", "CapEff": "0000000000000000", "Seccomp": "2"}
    assert "nested-refused" in run.stdout
    # Control: the same account may make a user namespace outside.
    kw = world.popen_kw()
    outside = subprocess.run(["unshare", "-U", "true"], capture_output=True, timeout=30, **kw)
    assert outside.returncode == 0


def _tagged(token: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if token.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_killing_bwrap_kills_a_daemonised_process(world: World) -> None:
    token = f"OQTO_BWRAP_TEST={os.urandom(6).hex()}"
    argv = world.argv(
        world.policy(),
        "sh",
        "-c",
        "setsid sleep 3600 < /dev/null > /dev/null 2>&1 & echo started; wait",
    )
    kw = world.popen_kw()
    kw["env"] = {**kw["env"], token.split("=")[0]: token.split("=")[1]}
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, **kw)
    try:
        assert proc.stdout.readline().strip() == "started"
        sleeper = wait_for(
            lambda: [
                p
                for p in _tagged(token)
                if Path(f"/proc/{p}/cmdline").read_bytes().startswith(b"sleep\0")
            ]
        )
        assert isinstance(sleeper, list) and len(sleeper) == 1
        proc.kill()
        proc.wait(10)
        wait_for(lambda: not any(_alive(p) for p in _tagged(token)))
    finally:
        for pid in _tagged(token):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        proc.stdout.close()


def test_the_agent_relay_reaches_a_server_in_the_network_namespace(world: World) -> None:
    sock = world.runtime / "s1" / "agent" / "agent.sock"
    argv = world.argv(
        world.policy(network=NetworkMode.NONE),
        sys.executable, "-m", "http.server", "4096", "--bind", "127.0.0.1",
        init=("--agent-socket", str(sock), "--agent-port", "4096"),
    )  # fmt: skip
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **world.popen_kw()
    )
    try:
        status = wait_for(lambda: _get_over_unix(sock))
        assert status == 200
        assert sock.stat().st_mode & 0o777 == 0o600
        # Stopping bwrap ends the server inside: the socket is left with nobody behind it
        # (the kernel kills the namespace's processes as bwrap goes, not before it exits).
        proc.terminate()
        proc.wait(10)
        wait_for(lambda: _get_over_unix(sock) is None)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def _get_over_unix(path: Path) -> int | None:
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        try:
            s.connect(str(path))
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            head = s.recv(64)
        except OSError:
            return None
    if not head.startswith(b"HTTP/"):
        return None
    return int(head.split()[1])


def test_the_egress_relay_reaches_a_socket_outside(world: World) -> None:
    egress_dir = world.runtime / "s1" / "egress"
    egress_dir.mkdir()
    sock = egress_dir / "egress.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(sock))
        server.listen()
        if world.uid is not None:
            os.chown(egress_dir, world.uid, world.uid)
            os.chown(sock, world.uid, world.uid)
        ctx = world.ctx()
        ctx = dataclasses.replace(ctx, own_dirs=(*ctx.own_dirs, egress_dir))
        assert BWRAP is not None
        client = (
            "import socket; s = socket.create_connection(('127.0.0.1', 3128), timeout=10); "
            "s.sendall(b'CONNECT x:443'); s.shutdown(socket.SHUT_WR); print(s.recv(100).decode())"
        )
        argv = [
            *build_argv(BWRAP, world.policy(network=NetworkMode.ALLOWLIST), ctx),
            sys.executable, "-m", "oqto.sandbox.init", "--egress-socket", str(sock),
            "--egress-port", "3128", "--", sys.executable, "-c", client,
        ]  # fmt: skip
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, **world.popen_kw())
        try:
            server.settimeout(15)
            conn, _ = server.accept()
            with conn:
                assert conn.recv(100) == b"CONNECT x:443"
                assert conn.recv(100) == b""  # the half-close got through
                conn.sendall(b"HTTP/1.1 200 Connection established")
            out, _ = proc.communicate(timeout=15)
            assert out.strip() == "HTTP/1.1 200 Connection established"
            assert proc.returncode == 0
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)


# -- preflight ---------------------------------------------------------------------------


def test_preflight_passes_here_and_remembers_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert BWRAP is not None
    probe = [BWRAP, *preflight._PROBE]
    assert (
        subprocess.run(probe, capture_output=True, timeout=30, **world.popen_kw()).returncode == 0
    )
    preflight._passed.discard(BWRAP)
    preflight.check(BWRAP)

    def no_second_run(*a: object, **k: object) -> None:
        raise AssertionError("ran bwrap again")

    monkeypatch.setattr(preflight.subprocess, "run", no_second_run)
    preflight.check(BWRAP)


def test_preflight_missing_binary() -> None:
    with pytest.raises(SandboxRefused) as caught:
        preflight.check("/nonexistent/bwrap")
    assert "[sandbox] bwrap" in str(caught.value) and "apt-get install bubblewrap" in str(
        caught.value
    )


def test_preflight_explains_apparmor_and_checks_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A bwrap that fails as Ubuntu 24.04's does, and that sysctl.
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n")
    fake.chmod(0o755)
    sysctl = tmp_path / "sys"
    (sysctl / "kernel").mkdir(parents=True)
    (sysctl / "kernel" / "apparmor_restrict_unprivileged_userns").write_text("1\n")
    monkeypatch.setattr(preflight, "_SYSCTL", sysctl)
    for _ in range(2):  # a failure is not remembered
        with pytest.raises(SandboxRefused) as caught:
            preflight.check(str(fake))
        message = str(caught.value)
        assert "setting up uid map: Permission denied" in message
        assert "userns" in message and "apparmor_restrict_unprivileged_userns=0" in message
    (sysctl / "kernel" / "apparmor_restrict_unprivileged_userns").write_text("0\n")
    (sysctl / "user").mkdir()
    (sysctl / "user" / "max_user_namespaces").write_text("0\n")
    with pytest.raises(SandboxRefused, match=r"user\.max_user_namespaces=0"):
        preflight.check(str(fake))


def test_preflight_refuses_where_user_namespaces_are_really_off() -> None:
    """The real bwrap, in a user namespace whose own limit allows no further one (the
    same limit `user.max_user_namespaces=0` sets for a host): refused, with the fix."""
    assert BWRAP is not None
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "Path('/proc/sys/user/max_user_namespaces').write_text('0')\n"
        "from oqto.sandbox import preflight\n"
        "from oqto.sandbox.policy import SandboxRefused\n"
        "try:\n"
        "    preflight.check(sys.argv[1])\n"
        "except SandboxRefused as exc:\n"
        "    print('REFUSED', exc.message)\n"
        "else:\n"
        "    print('PASSED')\n"
    )
    result = subprocess.run(
        ["unshare", "--user", "--map-root-user", sys.executable, "-c", script, BWRAP],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.startswith("REFUSED"), result.stdout + result.stderr
    assert "user.max_user_namespaces=0" in result.stdout
