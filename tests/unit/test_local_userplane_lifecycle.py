"""`LocalUserPlane` with real processes but stand-in services: a stop overtakes a slow
start, and an orphan sweep touches only its own instance's processes."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from tests.support.server import wait_for

from oqto.protocol.sessions import SessionSpec
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


def plane(tmp_path: Path, state: Path | None = None, start_timeout: float = 60) -> LocalUserPlane:
    binary = never_ready(tmp_path)
    return LocalUserPlane(
        LocalSettings(
            workspace_root=str(tmp_path / "workspaces" / "{user}"),
            runtime_dir=tmp_path / "run",
            log_dir=tmp_path / "logs",
            services=ServiceSettings(
                opencode_binary=binary,
                opencode_config=None,
                ttyd_binary=binary,
                shell="/bin/sh",
                files_max_upload_mb=1,
            ),
            start_timeout=start_timeout,
            stop_grace=1,
            state_dir=state,
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
