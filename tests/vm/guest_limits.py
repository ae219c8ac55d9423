"""Runs inside the VM as the lingering account `u`, under its user manager (as a runner
does): real processes started through oqto.sandbox.limits, checked against the kernel's
own cgroup files. Prints one line per check and a final `OQTO-VM-REPORT {json}` line;
exits 1 if any check failed."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import select
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from oqto.sandbox import limits
from oqto.sandbox.policy import Limits

MIB = 1 << 20
PYTHON = sys.executable
BWRAP = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-pid"]
BWRAP += ["--die-with-parent", "--"]
SLEEPER = "import time\nwhile True: time.sleep(1)"
# Touches every page (b'x' * n writes them), so memory.current really grows.
HOG = """
import sys, time
chunks = []
for i in range(int(sys.argv[1])):
    chunks.append(b'x' * (1 << 20))
print('held', flush=True)
time.sleep(3600)
"""
FORK_LOOP = """
import os, sys, time
n = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(3600)
            os._exit(0)
        n += 1
except BlockingIOError:
    print(f'EAGAIN after {n}', flush=True)
time.sleep(3600)
"""

report: dict[str, object] = {}
started: list[subprocess.Popen[str]] = []


def sid() -> str:
    return secrets.token_hex(8)


def spawn(session_id: str, service: str, argv: list[str]) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        limits.wrap(argv, session_id=session_id, service=service),
        stdout=subprocess.PIPE,
        text=True,
    )
    started.append(proc)
    return proc


def read_line(proc: subprocess.Popen[str], timeout: float) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, f"no output from {proc.args[-1][:40]!r} within {timeout} s"
    return proc.stdout.readline().strip()


def wait_until(what: str, check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def cgroup_file(path: Path, name: str) -> str:
    return (path / name).read_text().strip()


def events(path: Path) -> dict[str, int]:
    pairs = (line.split() for line in cgroup_file(path, "memory.events").splitlines())
    return {k: int(v) for k, v in pairs}


def user_slice() -> Path:
    return limits.session_cgroup("x").parent


def gone(session_id: str) -> None:
    """The slice's cgroup, unit and properties are all gone."""
    cgroup = limits.session_cgroup(session_id)
    wait_until(f"{cgroup} to be removed", lambda: not cgroup.exists())
    unit = limits.session_slice(session_id)
    state = subprocess.run(
        ["systemctl", "--user", "show", "--property=ActiveState", "--value", unit],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert state == "inactive", f"{unit} is {state}"
    dropins = Path(os.environ["XDG_RUNTIME_DIR"]) / "systemd" / "user.control" / f"{unit}.d"
    assert not dropins.exists(), f"{dropins} is left behind"


def check_support() -> None:
    found = limits.support()
    assert found.available, found.reason
    report["manager_cgroup"] = found.manager_cgroup


def check_memory_max_kills_only_its_session() -> None:
    hog_sid, other_sid = sid(), sid()
    asyncio.run(limits.apply(hog_sid, Limits(memory_max=32 * MIB), None))
    asyncio.run(limits.apply(other_sid, Limits(memory_max=32 * MIB), None))
    survivor = spawn(other_sid, "agent", [*BWRAP, PYTHON, "-c", SLEEPER])
    hog_cgroup = limits.session_cgroup(hog_sid)
    t0 = time.monotonic()
    hog = spawn(hog_sid, "agent", [*BWRAP, PYTHON, "-c", HOG, "128"])
    assert hog.wait(timeout=120) != 0
    report["memory_hog_killed_after_s"] = round(time.monotonic() - t0, 2)
    assert cgroup_file(hog_cgroup, "memory.max") == str(32 * MIB)
    assert events(hog_cgroup)["oom_kill"] >= 1, events(hog_cgroup)
    assert int(cgroup_file(hog_cgroup, "memory.peak")) <= 32 * MIB
    assert survivor.poll() is None, "the other session's process died too"
    assert events(limits.session_cgroup(other_sid))["oom_kill"] == 0
    for session in (hog_sid, other_sid):
        asyncio.run(limits.cleanup(session))
        gone(session)
    assert survivor.wait(timeout=30) != 0


def check_tasks_max_bounds_a_fork_loop() -> None:
    session = sid()
    asyncio.run(limits.apply(session, Limits(tasks_max=24, cpu_weight=50), None))
    loop = spawn(session, "terminal", [PYTHON, "-c", FORK_LOOP])
    line = read_line(loop, 60)
    assert line.startswith("EAGAIN after "), line
    forked = int(line.split()[-1])
    report["fork_loop_children_at_limit"] = forked
    cgroup = limits.session_cgroup(session)
    assert cgroup_file(cgroup, "pids.max") == "24"
    assert int(cgroup_file(cgroup, "pids.current")) == 24
    assert forked < 24
    assert limits.usage(session)["tasks_current"] == 24
    assert cgroup_file(cgroup, "cpu.weight") == "50"
    scopes = [d for d in cgroup.iterdir() if d.is_dir()]
    pids = [int(p) for d in scopes for p in cgroup_file(d, "cgroup.procs").split()]
    assert len(pids) == 24, pids
    t0 = time.monotonic()
    asyncio.run(limits.cleanup(session))
    assert loop.wait(timeout=30) != 0
    wait_until("the fork loop's children to be gone", lambda: not any(alive(p) for p in pids))
    report["fork_loop_cleanup_s"] = round(time.monotonic() - t0, 2)
    gone(session)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def check_user_memory_max_bounds_all_sessions() -> None:
    first, second = sid(), sid()
    cap = 64 * MIB
    for session in (first, second):
        asyncio.run(limits.apply(session, Limits(memory_max=48 * MIB), cap))
    holder = spawn(first, "agent", [*BWRAP, PYTHON, "-c", HOG, "40"])
    assert read_line(holder, 60) == "held"
    other = spawn(second, "agent", [*BWRAP, PYTHON, "-c", HOG, "40"])
    pair = (holder, other)
    wait_until("one of the two to be killed", lambda: any(p.poll() is not None for p in pair), 120)
    top = user_slice()
    assert cgroup_file(top, "memory.max") == str(cap)
    assert events(top)["oom_kill"] >= 1, events(top)
    assert int(cgroup_file(top, "memory.peak")) <= cap
    for session in (first, second):
        asyncio.run(limits.cleanup(session))
        gone(session)
    asyncio.run(limits.apply(sid(), Limits(), None))  # lifts the user's cap again
    assert cgroup_file(top, "memory.max") == "max"


CHECKS = [
    check_support,
    check_memory_max_kills_only_its_session,
    check_tasks_max_bounds_a_fork_loop,
    check_user_memory_max_bounds_all_sessions,
]


def main() -> int:
    failed = []
    for check in CHECKS:
        t0 = time.monotonic()
        try:
            check()
        except Exception:
            failed.append(check.__name__)
            print(f"FAIL {check.__name__}\n{traceback.format_exc()}", flush=True)
        else:
            print(f"ok   {check.__name__} ({time.monotonic() - t0:.1f} s)", flush=True)
        finally:
            for proc in started:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            started.clear()
    report["failed"] = failed
    print("OQTO-VM-REPORT " + json.dumps(report), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
