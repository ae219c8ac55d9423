"""A platform user replaces their own runner with a hostile one (tests/multiuser/
hostile_runner.py, run as that user) and tries to make the control plane, which serves
everyone, act on another user's services or sessions: the confused-deputy attacks.

The control plane only ever uses connections a runner *passes* it, and checks with the
kernel who serves them before sending a byte; it takes a runner's events and answers
only for that runner's own user's sessions."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.multiuser.platform import MultiUserPlatform, PlatformUser
from tests.multiuser.test_isolation import runtime_of, session_of
from tests.support.server import REPO, wait_for
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from oqto.protocol.runner import MAX_FRAME_BYTES

HOSTILE = Path(__file__).with_name("hostile_runner.py")


class HostileRunner:
    def __init__(self, platform: MultiUserPlatform, user: PlatformUser) -> None:
        self.platform, self.user = platform, user
        self.plan = platform.root / f"plan-{user.name}.json"
        self.set_plan(connect=["pipe"])
        self.proc: subprocess.Popen[str] | None = None

    def set_plan(self, **plan: Any) -> None:
        self.plan.write_text(json.dumps(plan))
        self.plan.chmod(0o644)

    def start(self) -> None:
        account = self.user.account
        self.proc = subprocess.Popen(
            [
                "setpriv",
                f"--reuid={account.uid}",
                f"--regid={account.gid}",
                "--init-groups",
                "--",
                sys.executable,
                str(HOSTILE),
                str(self.platform.runner_socket(self.user)),
                str(self.plan),
                str(self.platform.service.uid),
            ],
            env={"PATH": "/usr/bin:/bin", "USER": account.name, "PYTHONPATH": str(REPO / "src")},
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "LISTENING"

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def bob_session(platform: MultiUserPlatform, bob: PlatformUser) -> Iterator[dict[str, Any]]:
    # On the host's network (profile minimal), so that bob's opencode has a loopback port
    # for a hostile runner to pass a connection to; sandboxed with a network of its own
    # it would have none at all (tests/multiuser/test_isolation.py checks that).
    platform.sandbox_path.write_text('profile = "minimal"\n')
    try:
        session = session_of(platform, bob, "victim")
    finally:
        platform.sandbox_path.unlink()
    assert session["sandbox"]["network"] == "host"
    yield session
    with platform.client(bob) as client:
        client.delete(f"/api/sessions/{session['id']}")


@pytest.fixture(scope="module")
def mallory(platform: MultiUserPlatform) -> Iterator[tuple[PlatformUser, HostileRunner]]:
    user = platform.add_user()
    runner = user.runner
    assert runner is not None
    runner.kill()
    runner.wait()
    hostile = HostileRunner(platform, user)
    hostile.start()
    try:
        yield user, hostile
    finally:
        hostile.stop()
        platform.restart_runner(user)


def hostile_session(platform: MultiUserPlatform, user: PlatformUser, name: str) -> str:
    with platform.client(user) as client:
        created = client.post("/api/sessions", json={"workspace": name})
        assert created.status_code == 201, created.text
        sid: str = created.json()["id"]
        wait_for(
            lambda: client.get(f"/api/sessions/{sid}").json()["status"] != "starting",
            60,
            "the hostile start to finish",
        )
        return sid


@pytest.fixture
def recorder(platform: MultiUserPlatform, bob: PlatformUser) -> Iterator[tuple[Path, Path]]:
    """A Unix socket served by bob that anyone may connect to (bob made it so), recording
    every byte it is sent: the hostile runner can reach it, so it can pass it on."""
    directory = platform.root / f"recorder-{bob.name}"
    directory.mkdir(mode=0o755, exist_ok=True)
    sock, log = directory / "open.sock", directory / "received"
    code = (
        "import os, socket, sys\n"
        "s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o777)\n"
        "s.listen(); print('READY', flush=True)\n"
        "while True:\n"
        "    c, _ = s.accept()\n"
        "    c.settimeout(2)\n"
        "    try:\n"
        "        data = c.recv(65536)\n"
        "    except OSError:\n"
        "        data = b''\n"
        "    with open(sys.argv[2], 'ab') as f: f.write(data)\n"
        "    c.close()\n"
    )
    import shutil

    shutil.chown(directory, bob.account.uid, bob.account.gid)
    proc = subprocess.Popen(
        [
            "setpriv",
            f"--reuid={bob.account.uid}",
            f"--regid={bob.account.gid}",
            "--init-groups",
            "--",
            "/usr/bin/python3",
            "-c",
            code,
            str(sock),
            str(log),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "READY"
    try:
        yield sock, log
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(directory, ignore_errors=True)


def test_a_passed_socket_served_by_another_user_is_refused_before_any_byte(
    platform: MultiUserPlatform,
    mallory: tuple[PlatformUser, HostileRunner],
    recorder: tuple[Path, Path],
) -> None:
    user, hostile = mallory
    sock, log = recorder
    hostile.set_plan(connect=["unix", str(sock)])
    sid = hostile_session(platform, user, "unix-foreign")
    with platform.client(user) as client:
        got = client.get(f"/api/sessions/{sid}/files/tree")
        assert got.status_code == 502, got.text
        assert "served by uid" in got.json()["message"]
    assert not log.exists() or log.read_bytes() == b"", "bytes reached another user's socket"

    async def terminal() -> None:
        url = platform.url.replace("http", "ws") + f"/api/sessions/{sid}/terminal"
        headers = {"Authorization": f"Bearer {user.token}"}
        with pytest.raises((InvalidStatus, ConnectionClosed)):
            async with connect(url, subprotocols=["tty"], additional_headers=headers) as ws:  # type: ignore[list-item]
                await ws.send(b"0id\r")
                await ws.recv()

    asyncio.run(terminal())
    assert not log.exists() or log.read_bytes() == b""


def test_a_passed_tcp_socket_to_another_users_agent_gets_no_credential(
    platform: MultiUserPlatform,
    bob: PlatformUser,
    bob_session: dict[str, Any],
    mallory: tuple[PlatformUser, HostileRunner],
) -> None:
    user, hostile = mallory
    bob_port = runtime_of(bob, bob_session["id"])["endpoints"]["agent_port"]
    hostile.set_plan(connect=["tcp", bob_port])
    sid = hostile_session(platform, user, "tcp-foreign")
    with platform.client(user) as client:
        got = client.get(f"/api/sessions/{sid}/agent/session")
        assert got.status_code == 502, got.text
        assert f"served by uid {bob.account.uid}" in got.json()["message"]


@pytest.mark.parametrize("kind", ["pipe", "listening"])
def test_things_that_are_not_a_connection_are_refused(
    platform: MultiUserPlatform, mallory: tuple[PlatformUser, HostileRunner], kind: str
) -> None:
    user, hostile = mallory
    hostile.set_plan(connect=[kind])
    sid = hostile_session(platform, user, f"not-a-conn-{kind}")
    assert platform.proc is not None
    fds = Path(f"/proc/{platform.proc.pid}/fd")
    with platform.client(user) as client:
        got = client.get(f"/api/sessions/{sid}/files/tree")
        assert got.status_code == 502, got.text
        before = len(list(fds.iterdir()))
        for _ in range(30):
            assert client.get(f"/api/sessions/{sid}/files/tree").status_code == 502
    # Every descriptor the runner passed was closed again, whatever it was.
    assert len(list(fds.iterdir())) - before < 10


def test_endpoints_named_by_a_runner_are_not_accepted(
    platform: MultiUserPlatform,
    bob: PlatformUser,
    bob_session: dict[str, Any],
    mallory: tuple[PlatformUser, HostileRunner],
) -> None:
    """The old attack: a runtime naming bob's terminal socket as this session's."""
    user, hostile = mallory
    endpoints = runtime_of(bob, bob_session["id"])["endpoints"]
    hostile.set_plan(
        connect=["pipe"],
        start_extra={"endpoints": {"terminal_socket": endpoints["terminal_socket"]}},
    )
    sid = hostile_session(platform, user, "legacy-endpoints")
    with platform.client(user) as client:
        body = client.get(f"/api/sessions/{sid}").json()
        assert body["status"] == "failed"
        assert "bad answer from the runner" in body["error"]


def test_spoofed_events_and_answers_about_another_users_session_are_ignored(
    platform: MultiUserPlatform,
    bob: PlatformUser,
    bob_session: dict[str, Any],
    mallory: tuple[PlatformUser, HostileRunner],
) -> None:
    user, hostile = mallory
    victim = bob_session["id"]
    hostile.set_plan(connect=["pipe"], spoof=victim, get_id=victim)
    # A fresh connection from the control plane subscribes again, and gets the spoof.
    hostile.stop()
    hostile.start()
    sid = hostile_session(platform, user, "spoofer")
    wait_for(
        lambda: "ignoring a state event for session " + victim in platform.log(),
        30,
        "the control plane to see (and ignore) the spoofed event",
    )
    with platform.client(bob) as client:
        assert client.get(f"/api/sessions/{victim}").json()["status"] == "running"
        assert client.get(f"/api/sessions/{victim}/files/tree").status_code == 200
    with platform.client(user) as client:
        # session.get answered about bob's session: no route for mallory's comes of it.
        # (The route of a session started in this process is cached from its start; a
        # fresh control plane asks session.get, which is what this checks.)
        platform.stop()
        platform.start()
        got = client.get(f"/api/sessions/{sid}/files/tree")
        assert got.status_code in (409, 502, 503), got.text


def test_an_oversize_answer_ends_the_runner_connection(
    platform: MultiUserPlatform, mallory: tuple[PlatformUser, HostileRunner]
) -> None:
    """The control plane reads no frame longer than the protocol's limit, however valid."""
    user, hostile = mallory
    hostile.set_plan(connect=["pipe"], start_extra={"error": "x" * MAX_FRAME_BYTES})
    try:
        sid = hostile_session(platform, user, "oversize")
        with platform.client(user) as client:
            body = client.get(f"/api/sessions/{sid}").json()
        assert body["status"] == "failed"
        assert "the runner closed the connection" in body["error"]
        assert f"frame longer than {MAX_FRAME_BYTES} bytes" in platform.log()
        # The next call connects again.
        hostile.set_plan(connect=["pipe"])
        after = hostile_session(platform, user, "after-oversize")
        with platform.client(user) as client:
            assert client.get(f"/api/sessions/{after}").json()["status"] == "running"
    finally:
        # It still holds the oversize session, which every session.list would carry.
        hostile.stop()
        hostile.start()


def rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return (
        int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1])
        / 1024
    )


def test_a_huge_websocket_frame_from_a_users_own_service_is_refused(
    platform: MultiUserPlatform, mallory: tuple[PlatformUser, HostileRunner]
) -> None:
    """The service is the user's own, so it passes the owner check: the bound on message
    size is what protects the control plane's memory."""
    user, hostile = mallory
    hostile.set_plan(connect=["ws-bomb", 300])
    sid = hostile_session(platform, user, "ws-bomb")
    assert platform.proc is not None
    cp_pid = platform.proc.pid  # setpriv execs oqto serve
    before = rss_mib(cp_pid)

    async def terminal() -> int | None:
        url = platform.url.replace("http", "ws") + f"/api/sessions/{sid}/terminal"
        headers = {"Authorization": f"Bearer {user.token}"}
        async with connect(url, subprotocols=["tty"], additional_headers=headers) as ws:  # type: ignore[list-item]
            with pytest.raises(ConnectionClosed):
                async with asyncio.timeout(60):
                    while True:
                        await ws.recv()
            return ws.close_code

    code = asyncio.run(terminal())
    assert code == 1009, code
    assert rss_mib(cp_pid) - before < 100, (before, rss_mib(cp_pid))
    with platform.client(user) as client:
        assert client.get("/api/health").status_code == 200
