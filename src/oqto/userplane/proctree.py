"""Finding and killing every process that belongs to a session.

Each service runs in its own process group, but that is not enough: ttyd gives each shell
a new session via forkpty, and anything may daemonise. So every session process carries
`OQTO_SESSION_ID` in its environment (children inherit it), and a stop sweeps /proc for it
after the process groups have been signalled.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

SESSION_ENV = "OQTO_SESSION_ID"
_PROC = Path("/proc")


def process_start_time(pid: int) -> int | None:
    """Clock ticks since boot when `pid` started: with the pid, it names one process."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name may contain spaces and parentheses; fields resume after the last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[19])


def _session_tags() -> dict[int, str]:
    """Session id of every process of this account that carries a session tag."""
    prefix = f"{SESSION_ENV}=".encode()
    uid = os.getuid()
    found = {}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid != uid:
                continue
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        for var in environ.split(b"\0"):
            if var.startswith(prefix):
                found[int(entry.name)] = var[len(prefix) :].decode(errors="replace")
                break
    return found


def tagged_processes(session_id: str) -> list[int]:
    """Pids of this account's processes whose environment names the session."""
    return [pid for pid, tag in _session_tags().items() if tag == session_id]


def orphan_sessions(known: set[str]) -> set[str]:
    """Session ids that tagged processes of this account carry but `known` lacks."""
    return {tag for pid, tag in _session_tags().items() if tag not in known and pid != os.getpid()}


def signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def kill_tagged(session_id: str) -> int:
    """SIGKILL whatever of the session survived its process groups; return how many."""
    pids = [pid for pid in tagged_processes(session_id) if pid != os.getpid()]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    return len(pids)
