"""Finding and ending every process of one Linux account (before `userdel`, or when a
runner without systemd must be restarted)."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import time
from pathlib import Path

_PROC = Path("/proc")


def _state(pid: str) -> str | None:
    try:
        return (_PROC / pid / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def pids_of(uid: int) -> list[int]:
    """Live (non-zombie) processes whose real uid is `uid`."""
    found = []
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("Uid:"):
                if int(line.split()[1]) == uid and _state(entry.name) not in (None, "Z"):
                    found.append(int(entry.name))
                break
    return found


def cmdline(pid: int) -> list[str]:
    try:
        raw = (_PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def is_runner(argv: list[str]) -> bool:
    """`oqto-runner ...` (argv[1] when started through its script's shebang) or
    `python -m oqto.runner ...`."""
    if "oqto-runner" in (os.path.basename(part) for part in argv[:2]):
        return True
    return any(a == "-m" and b == "oqto.runner" for a, b in itertools.pairwise(argv))


def runner_pids(uid: int) -> list[int]:
    return [pid for pid in pids_of(uid) if is_runner(cmdline(pid))]


def signal_pids(pids: list[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def wait_gone(pids: list[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(_state(str(pid)) in (None, "Z") for pid in pids):
            return True
        time.sleep(0.05)
    return False


def kill_all(uid: int, timeout: float = 30.0) -> None:
    """SIGKILL every process of `uid` until none is left (new ones may fork meanwhile)."""
    if uid == 0:
        raise ValueError("refusing to kill every process of root")
    deadline = time.monotonic() + timeout
    while pids := pids_of(uid):
        if time.monotonic() > deadline:
            raise TimeoutError(f"processes of uid {uid} keep running: {pids[:10]}")
        signal_pids(pids, signal.SIGKILL)
        wait_gone(pids, 1.0)
