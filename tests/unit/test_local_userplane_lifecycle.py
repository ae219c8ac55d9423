"""`LocalUserPlane` with real processes but stand-in services: a stop overtakes a slow
start, an orphan sweep touches only its own instance's processes, and only the newest
failures stay listed."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.support.sandboxes import unsandboxed
from tests.support.server import TOOLS_BIN, wait_for

from oqto.protocol.sessions import RuntimeState, SessionSpec
from oqto.userplane.base import UserPlaneError
from oqto.userplane.local import LocalSettings, LocalUserPlane
from oqto.userplane.proctree import INSTANCE_ENV, SESSION_ENV, tagged_processes
from oqto.userplane.services import ServiceSettings
from oqto.userplane.statefile import StateStore


def never_ready(tmp_path: Path) -> str:
    script = tmp_path / "never-ready"
    script.write_text("#!/bin/sh\nexec sleep 600\n")
    script.chmod(0o755)
    return str(script)


def plane(
    tmp_path: Path,
    state: Path | None = None,
    start_timeout: float = 60,
    *,
    agent: str | None = None,
    ttyd: str | None = None,
    failed_kept: int = 32,
) -> LocalUserPlane:
    """Services that never answer, unless `agent`/`ttyd` say what to run instead."""
    binary = never_ready(tmp_path)
    return LocalUserPlane(
        LocalSettings(
            workspace_root=str(tmp_path / "workspaces" / "{user}"),
            runtime_dir=tmp_path / "run",
            log_dir=tmp_path / "logs",
            services=ServiceSettings(
                opencode_binary=agent or binary,
                opencode_config=None,
                ttyd_binary=ttyd or binary,
                shell="/bin/sh",
                files_max_upload_mb=1,
            ),
            sandbox=unsandboxed(tmp_path),
            start_timeout=start_timeout,
            stop_grace=1,
            state_dir=state,
            failed_kept=failed_kept,
        )
    )


def test_a_stop_overtakes_a_start_that_would_take_a_minute(tmp_path: Path) -> None:
    async def scenario() -> None:
        userplane = plane(tmp_path)
        spec = SessionSpec(id="slowstart1", owner="alice", workspace="w")
        start = asyncio.create_task(userplane.start_session(spec))
        await asyncio.to_thread(wait_for, lambda: tagged_processes(spec.id), 30, "the start")
        began = time.monotonic()
        await userplane.stop_session(spec.id)
        with pytest.raises(UserPlaneError) as caught:
            await start
        assert caught.value.code == "start_cancelled"
        assert time.monotonic() - began < 20, "the stop waited for the start"
        assert tagged_processes(spec.id) == []
        assert await userplane.get_session(spec.id) is None
        await userplane.close()

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_the_orphan_sweep_spares_other_instances(tmp_path: Path) -> None:
    ours = plane(tmp_path, state=tmp_path / "state")
    # Same state directory, same instance: the id survives a restart of the runner.
    assert plane(tmp_path, state=tmp_path / "state")._instance == ours._instance
    env = {k: v for k, v in os.environ.items() if not k.startswith("OQTO_")}

    def spawn(session: str, instance: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            ["sleep", "600"], env={**env, SESSION_ENV: session, INSTANCE_ENV: instance}
        )

    mine = spawn("orphan-of-ours", ours._instance)
    theirs = spawn("another-servers", "someone-else")
    try:
        wait_for(lambda: tagged_processes("another-servers"), 10, "the processes to start")
        adopted, dropped = asyncio.run(ours.adopt())
        assert (adopted, dropped) == ([], [])
        assert mine.wait(10) is not None  # killed as our orphan
        assert theirs.poll() is None, "another instance's session was killed"
    finally:
        for proc in (mine, theirs):
            proc.kill()
            proc.wait()


def test_session_records_of_the_previous_format_are_still_read(tmp_path: Path) -> None:
    """A runner upgraded under running sessions must re-adopt them, not drop their
    records (which would leave their processes running with nothing to stop them)."""
    store = StateStore(tmp_path / "state")
    record = {
        "spec": {"id": "old1", "owner": "alice", "workspace": "w"},
        "workspace": "/nonexistent",
        "runtime_dir": "/nonexistent",
        "log_dir": "/nonexistent",
        "endpoints": {
            "agent": {"host": "127.0.0.1", "port": 41234, "username": "opencode", "password": "p"},
            "files_socket": "/nonexistent/files.sock",
            "terminal_socket": "/nonexistent/ttyd.sock",
        },
        "processes": [],
    }
    store.directory.mkdir(parents=True)
    (store.directory / "old1.json").write_text(json.dumps(record))
    [loaded] = store.load_all()
    assert loaded.endpoints.agent_port == 41234
    assert loaded.endpoints.agent.password == "p"


STAND_IN_AGENT = """\
import http.server


class Healthy(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args):
        pass


http.server.HTTPServer(("127.0.0.1", 0), Healthy).serve_forever()
"""


def test_only_the_newest_failures_stay_listed(tmp_path: Path) -> None:
    """A session whose service died stays listed with its reason until stopped; a user
    whose services keep dying must not grow the list without bound (it has to fit one
    runner protocol frame). Real oqto-files and ttyd; the agent is a stand-in whose only
    job is to answer the probe and then die."""
    ttyd = TOOLS_BIN / "ttyd"
    assert ttyd.exists(), f"missing {ttyd}: run scripts/setup.sh"
    agent = tmp_path / "agent"
    agent.write_text(f"#!{sys.executable}\n{STAND_IN_AGENT}")
    agent.chmod(0o755)
    userplane = plane(tmp_path, agent=str(agent), ttyd=str(ttyd), failed_kept=1)

    async def died(session_id: str) -> None:
        runtime = await userplane.get_session(session_id)
        assert runtime is not None
        os.kill(runtime.pids["agent"], signal.SIGKILL)

    async def listed() -> dict[str, RuntimeState]:
        return {r.id: r.state for r in await userplane.list_sessions()}

    async def until(expected: dict[str, RuntimeState]) -> None:
        deadline = time.monotonic() + 30
        while (now := await listed()) != expected:
            assert time.monotonic() < deadline, f"listed {now}, expected {expected}"
            await asyncio.sleep(0.05)

    async def scenario() -> None:
        try:
            for sid in ("dies1", "dies2"):
                await userplane.start_session(SessionSpec(id=sid, owner="alice", workspace=sid))
            await died("dies1")
            await until({"dies1": RuntimeState.FAILED, "dies2": RuntimeState.RUNNING})
            await died("dies2")
            await until({"dies2": RuntimeState.FAILED})
            failed = await userplane.get_session("dies2")
            assert failed is not None and "exited unexpectedly" in (failed.error or "")
            assert await userplane.get_session("dies1") is None
        finally:
            await userplane.close()
        assert tagged_processes("dies1") == [] and tagged_processes("dies2") == []

    asyncio.run(asyncio.wait_for(scenario(), 120))
