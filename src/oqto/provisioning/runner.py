"""Reaching a user's runner: its socket, a ping, and (without systemd) starting and
stopping it directly as the user."""

from __future__ import annotations

import asyncio
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from oqto.osutil.accounts import LinuxAccount
from oqto.protocol.runner import Method, PingResult
from oqto.provisioning import direct, processes
from oqto.runner.client import RunnerClient
from oqto.userplane.base import UserPlaneError


class RunnerError(Exception):
    pass


def socket_path(pattern: str, account: LinuxAccount) -> Path:
    return Path(pattern.format(uid=account.uid, user=account.name))


@dataclass(frozen=True)
class Pong:
    uid: int
    version: str


async def _ping(path: Path, uid: int, call_timeout: float) -> Pong:
    client = RunnerClient(path, timeout=call_timeout, expected_uid=uid, agent="oqtoctl")
    try:
        result = await client.call(Method.PING, {})
    finally:
        await client.close()
    assert isinstance(result, PingResult)
    return Pong(uid=result.uid, version=result.version)


def ping(path: Path, uid: int, timeout: float = 5.0) -> Pong:
    """Ping the runner at `path`, which must be served by `uid`; raises RunnerError."""
    try:
        return asyncio.run(_ping(path, uid, timeout))
    except UserPlaneError as exc:
        raise RunnerError(exc.message) from None


def wait_answering(path: Path, uid: int, timeout: float, alive: object = None) -> Pong:
    """Ping until the runner answers. `alive` (a Popen) ends the wait early if it exits."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        poll = getattr(alive, "poll", None)
        if poll is not None and poll() is not None:
            raise RunnerError(f"oqto-runner exited with status {poll()}")
        try:
            return ping(path, uid, timeout=min(5.0, max(deadline - time.monotonic(), 0.5)))
        except RunnerError as exc:
            last = str(exc)
        time.sleep(0.1)
    raise RunnerError(f"the runner at {path} did not answer within {timeout:g} s: {last}")


def start_direct(
    account: LinuxAccount,
    *,
    config: Path | None,
    service_user: str,
    log_dir: Path,
    socket: Path,
    timeout: float,
) -> int:
    """Start `oqto-runner` as the account without systemd and wait until it answers;
    returns its pid. The runner outlives us (own session), like a service would."""
    from oqto.osutil.runtime_dir import ensure_runtime_dir

    runtime_dir = ensure_runtime_dir(account.uid, account.gid)
    log_dir.mkdir(parents=True, exist_ok=True, mode=0o755)
    proc = direct.start_runner(
        account,
        runtime_dir,
        config=config,
        service_user=service_user,
        log_path=log_dir / f"{account.name}.log",
    )
    try:
        wait_answering(socket, account.uid, timeout, alive=proc)
    except RunnerError as exc:
        proc.terminate()
        proc.wait(10)
        tail = direct_log_tail(log_dir, account)
        raise RunnerError(f"{exc}{'; its log ends with: ' + tail if tail else ''}") from None
    return proc.pid


def direct_log_tail(log_dir: Path, account: LinuxAccount, max_bytes: int = 600) -> str:
    from oqto.userplane.process import file_tail

    return file_tail(log_dir / f"{account.name}.log", max_bytes).replace("\n", " | ")


def stop_direct(account: LinuxAccount, timeout: float = 15.0) -> list[int]:
    """Stop runners started without systemd (SIGTERM: sessions keep running, as with
    `systemctl --user stop`); returns the pids that were signalled."""
    pids = processes.runner_pids(account.uid)
    processes.signal_pids(pids, signal.SIGTERM)
    if not processes.wait_gone(pids, timeout):
        processes.signal_pids(pids, signal.SIGKILL)
        processes.wait_gone(pids, 5)
    return pids
