"""Finding and killing every process that belongs to a session.

Each service runs in its own process group, but that is not enough: ttyd gives each shell
a new session via forkpty, and anything may daemonise. Two independent nets catch the rest:

- Every service is a *child subreaper* (`PR_SET_CHILD_SUBREAPER`, kept across exec): a
  descendant that double-forks is re-parented to the service, not to init, so the
  service's process tree (parent links in /proc, which no process can rewrite) holds
  everything it ever started. A stop kills that tree before the service itself.
- Every session process carries `OQTO_SESSION_ID` (and `OQTO_INSTANCE`, naming the user
  plane that started it) in its environment. A process may drop these, so the tag is only
  the sweep for what outlived its service; it never decides alone what belongs to whom,
  and an orphan sweep only touches processes of its own instance.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
from pathlib import Path

SESSION_ENV = "OQTO_SESSION_ID"
INSTANCE_ENV = "OQTO_INSTANCE"
_PROC = Path("/proc")
PR_SET_CHILD_SUBREAPER = 36
_libc = ctypes.CDLL(None, use_errno=True)
_MAX_KILL_ROUNDS = 100


def _stat_fields(pid: int | str) -> list[str] | None:
    """/proc/PID/stat from field 3 (state) on, or None if the process is gone. The command
    name may contain spaces and parentheses; fields resume after the last ')'."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()


def process_start_time(pid: int) -> int | None:
    """Clock ticks since boot when `pid` started: with the pid, it names one process."""
    fields = _stat_fields(pid)
    return int(fields[19]) if fields else None


def become_subreaper() -> None:
    """Run in the child between fork and exec (`preexec_fn`)."""
    if _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def _parents() -> dict[int, int]:
    """pid -> parent pid of every process we can see."""
    found = {}
    for entry in _PROC.iterdir():
        if entry.name.isdigit() and (fields := _stat_fields(entry.name)) is not None:
            found[int(entry.name)] = int(fields[1])
    return found


def descendants(roots: set[int]) -> set[int]:
    """Every live process below `roots` (not the roots themselves)."""
    children: dict[int, list[int]] = {}
    for pid, ppid in _parents().items():
        children.setdefault(ppid, []).append(pid)
    found: set[int] = set()
    todo = list(roots)
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found and child not in roots:
                found.add(child)
                todo.append(child)
    return found


def kill_descendants(roots: set[int]) -> int:
    """SIGKILL everything below `roots` while the roots (subreapers) still live, so
    nothing is re-parented out of reach; repeat until the trees are empty, since a
    process may fork while we kill. Returns how many were killed."""
    killed = 0
    for _ in range(_MAX_KILL_ROUNDS):
        pids = descendants(roots)
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        killed += len(pids)
    return killed


def _session_tags(instance: str | None = None) -> dict[int, str]:
    """Session id of every process of this account that carries a session tag (and, if
    `instance` is given, was started by that user-plane instance)."""
    prefix = f"{SESSION_ENV}=".encode()
    instance_var = f"{INSTANCE_ENV}={instance}".encode() if instance else None
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
        variables = environ.split(b"\0")
        if instance_var is not None and instance_var not in variables:
            continue
        for var in variables:
            if var.startswith(prefix):
                found[int(entry.name)] = var[len(prefix) :].decode(errors="replace")
                break
    return found


def tagged_processes(session_id: str) -> list[int]:
    """Pids of this account's processes whose environment names the session."""
    return [pid for pid, tag in _session_tags().items() if tag == session_id]


def orphan_sessions(known: set[str], instance: str) -> set[str]:
    """Session ids that processes started by user-plane `instance` carry but `known` lacks.
    Another Oqto instance of the same account (a second single-user server, a test run)
    has its own instance id, so its sessions are never taken for orphans."""
    return {
        tag
        for pid, tag in _session_tags(instance).items()
        if tag not in known and pid != os.getpid()
    }


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
