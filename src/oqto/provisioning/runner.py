"""Reaching a user's runner (a ping, waiting until it answers), and spawning and stopping
it as the user where no service manager does that."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from oqto.osutil.accounts import LinuxAccount
from oqto.osutil.runtime_dir import ensure_runtime_dir
from oqto.protocol.runner import Empty, Method
from oqto.provisioning import processes
from oqto.provisioning.asuser import setpriv_argv, user_environment
from oqto.runner.client import RunnerClient
from oqto.userplane.base import UserPlaneError
from oqto.userplane.process import file_tail


class RunnerError(Exception):
    pass


@dataclass(frozen=True)
class Pong:
    uid: int
    version: str


async def _ping(path: Path, uid: int, call_timeout: float) -> Pong:
    client = RunnerClient(path, timeout=call_timeout, expected_uid=uid, agent="oqtoctl")
    try:
        result = await client.call(Method.PING, Empty())
    finally:
        await client.close()
    return Pong(uid=result.uid, version=result.version)


def ping(path: Path, uid: int, timeout: float = 5.0) -> Pong:
    """Ping the runner at `path`, which must be served by `uid`; raises RunnerError."""
    try:
        return asyncio.run(_ping(path, uid, timeout))
    except UserPlaneError as exc:
        raise RunnerError(exc.message) from None


def wait_answering(
    path: Path, uid: int, timeout: float, alive: subprocess.Popen[bytes] | None = None
) -> Pong:
    """Ping until the runner answers; if `alive` (the runner's process) exits, stop early."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if alive is not None and alive.poll() is not None:
            raise RunnerError(f"oqto-runner exited with status {alive.returncode}")
        try:
            return ping(path, uid, timeout=min(5.0, max(deadline - time.monotonic(), 0.5)))
        except RunnerError as exc:
            last = str(exc)
        time.sleep(0.1)
    raise RunnerError(f"the runner at {path} did not answer within {timeout:g} s: {last}")


def log_path(log_dir: Path, account: LinuxAccount) -> Path:
    """Where a spawned runner of `account` writes its output."""
    return log_dir / f"{account.name}.log"


def start_direct(
    account: LinuxAccount,
    *,
    config: Path | None,
    service_user: str,
    log_dir: Path,
    socket: Path,
    timeout: float,
) -> subprocess.Popen[bytes]:
    """Spawn `oqto-runner` as the account (root only) with the environment a login gives
    it, and wait until it answers. It runs in its own session, so it outlives its parent
    as a service would."""
    runtime_dir = ensure_runtime_dir(account.uid, account.gid)
    log_dir.mkdir(parents=True, exist_ok=True, mode=0o755)
    log = log_path(log_dir, account)
    log.touch(mode=0o600)
    os.chown(log, account.uid, account.gid)
    argv = [sys.executable, "-m", "oqto.runner", "--service-user", service_user]
    if config is not None:
        argv += ["--config", str(config)]
    with log.open("ab") as out:
        proc = subprocess.Popen(
            setpriv_argv(account, argv),
            env=user_environment(account) | {"XDG_RUNTIME_DIR": str(runtime_dir)},
            cwd=account.home,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_answering(socket, account.uid, timeout, alive=proc)
    except RunnerError as exc:
        proc.terminate()
        proc.wait(10)
        tail = file_tail(log, 600).replace("\n", " | ")
        raise RunnerError(f"{exc}{'; its log ends with: ' + tail if tail else ''}") from None
    return proc


def stop_direct(account: LinuxAccount, timeout: float = 15.0) -> list[int]:
    """Stop the account's runners that no service manager runs (SIGTERM: sessions keep
    running, as with `systemctl --user stop`); returns the pids that were signalled."""
    pids = processes.runner_pids(account.uid)
    processes.signal_pids(pids, signal.SIGTERM)
    if not processes.wait_gone(pids, timeout):
        processes.signal_pids(pids, signal.SIGKILL)
        processes.wait_gone(pids, 5)
    return pids
