"""Booting a tree with systemd-nspawn, as measured on this kind of host (see
reference/measured-here.md): `--register=no --keep-unit` because the host has no systemd
or dbus, started from a cgroup of its own so the guest systemd does not write into the
host's root cgroups, entered with `nsenter -t <leader> -a`.

The tree is never changed: the container runs on an overlay whose upper layer belongs to
this run. `cleanup()` removes every process, mount, cgroup and file the run created."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.systemd.tree import CACHE, mounts_below, unmount_all

CGROUP_ROOT = Path("/sys/fs/cgroup")
CONTAINER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class MachineError(Exception):
    pass


def _cgroup_hierarchies() -> list[Path]:
    """Where nspawn's guest creates cgroups: the named systemd v1 hierarchy and cgroup2
    (hybrid layout), or the cgroup2 root (unified layout)."""
    if (CGROUP_ROOT / "cgroup.controllers").exists():
        return [CGROUP_ROOT]
    return [CGROUP_ROOT / h for h in ("systemd", "unified") if (CGROUP_ROOT / h).is_dir()]


def _status_field(pid: int, name: str) -> list[str]:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{name}:"):
                return line.split()[1:]
    except OSError:
        pass
    return []


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


@dataclass
class Machine:
    tree: Path
    binds: list[tuple[Path, str]] = field(default_factory=list)
    name: str = field(default_factory=lambda: f"oqtotest-{secrets.token_hex(3)}")
    nspawn: subprocess.Popen[bytes] | None = None
    leader: int = 0
    boots: int = 0
    lock_file: Path | None = None

    def __post_init__(self) -> None:
        self.run_dir = CACHE / f"run-{self.name}"
        self.root = self.run_dir / "merged"
        # On a host that runs systemd itself, a transient scope is the container's cgroup
        # (the documented way to use --keep-unit); elsewhere, a cgroup we make and remove.
        self.host_systemd = Path("/run/systemd/system").is_dir()
        self.cgroups = [] if self.host_systemd else [h / self.name for h in _cgroup_hierarchies()]

    # -- lifecycle ----------------------------------------------------------------------

    def prepare(self) -> None:
        for sub in ("upper", "work", "merged"):
            (self.run_dir / sub).mkdir(parents=True, exist_ok=True)
        options = (
            f"lowerdir={self.tree},upperdir={self.run_dir / 'upper'},"
            f"workdir={self.run_dir / 'work'}"
        )
        subprocess.run(
            ["mount", "-t", "overlay", "overlay", "-o", options, str(self.root)], check=True
        )
        for cgroup in self.cgroups:
            cgroup.mkdir(exist_ok=True)
        st = self.root.stat()
        self.lock_file = Path(f"/run/systemd/nspawn/locks/inode-{st.st_dev}:{st.st_ino}")

    def boot(self, timeout: float = 120) -> float:
        """Boot and wait for `systemctl is-system-running`; returns the seconds it took."""
        started = time.monotonic()
        self.boots += 1
        log = (self.run_dir / f"nspawn-{self.boots}.log").open("wb")
        joins = "".join(f"echo $$ > {c}/cgroup.procs; " for c in self.cgroups)
        argv = [
            "systemd-nspawn",
            "-D",
            str(self.root),
            "-b",
            "--register=no",
            "--keep-unit",
            "--console=pipe",
            "-M",
            self.name,
            *(f"--bind-ro={source}:{target}" for source, target in self.binds),
        ]
        if self.host_systemd:
            launcher = ["systemd-run", "--scope", "--quiet", f"--unit={self.name}-{self.boots}"]
            command = [*launcher, "-p", "Delegate=yes", "--", *argv]
        else:
            command = ["sh", "-c", f'{joins}exec "$@"', "sh", *argv]
        self.nspawn = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        self.leader = 0
        while not self.leader:
            if self.nspawn.poll() is not None or time.monotonic() > deadline:
                raise MachineError(f"systemd-nspawn did not start: {self.nspawn_log()}")
            self.leader = self._find_leader()
            time.sleep(0.02)
        state = ""
        while time.monotonic() < deadline:
            result = self.run("systemctl is-system-running --wait", check=False, timeout=60)
            state = result.stdout.strip()
            if state in ("running", "degraded"):
                break
            time.sleep(0.2)
        if state != "running":
            failed = self.run("systemctl --failed --no-pager", check=False).stdout
            raise MachineError(f"the container is {state or 'not up'}:\n{failed}")
        return time.monotonic() - started

    def _find_leader(self) -> int:
        """The container's PID 1: a descendant of nspawn named systemd whose pid in its own
        namespace is 1 (nspawn forks a short-lived intermediate child first)."""
        assert self.nspawn is not None
        pending = [self.nspawn.pid]
        while pending:
            pid = pending.pop()
            for child in _children(pid):
                ns_pids = _status_field(child, "NSpid")
                if _status_field(child, "Name") == ["systemd"] and ns_pids[-1:] == ["1"]:
                    return child
                pending.append(child)
        return 0

    def poweroff(self, timeout: float = 60) -> float:
        started = time.monotonic()
        self.run("systemctl poweroff", check=False, timeout=30)
        assert self.nspawn is not None
        try:
            self.nspawn.wait(timeout)
        except subprocess.TimeoutExpired:
            raise MachineError(f"the container did not power off within {timeout:g} s") from None
        self.leader = 0
        return time.monotonic() - started

    def cleanup(self) -> list[str]:
        """Remove everything this machine created; returns what had to be forced."""
        forced = []
        if self.nspawn is not None and self.nspawn.poll() is None:
            forced.append("nspawn still running")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.nspawn.pid, signal.SIGTERM)  # nspawn shuts the guest down
            try:
                self.nspawn.wait(30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.nspawn.pid, signal.SIGKILL)
                self.nspawn.wait(10)
        for cgroup in self.cgroups:
            forced += self._remove_cgroup(cgroup)
        if mounts_below(self.run_dir):
            unmount_all(self.run_dir)
        shutil.rmtree(self.run_dir, ignore_errors=True)
        # nspawn's own bookkeeping on the host: our machine's entries, then the shared
        # directories only if no other run still uses them.
        shutil.rmtree(Path("/run/systemd/nspawn/propagate") / self.name, ignore_errors=True)
        if self.lock_file is not None:
            self.lock_file.unlink(missing_ok=True)
        for directory in ("propagate", "locks", ""):
            with contextlib.suppress(OSError):
                (Path("/run/systemd/nspawn") / directory).rmdir()
        return forced

    @staticmethod
    def _remove_cgroup(cgroup: Path) -> list[str]:
        if not cgroup.exists():
            return []
        forced = []
        directories = sorted(
            (p for p in cgroup.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True
        )
        for directory in [*directories, cgroup]:
            procs = directory / "cgroup.procs"
            for _attempt in range(50):
                pids = [int(p) for p in procs.read_text().split()] if procs.exists() else []
                if not pids:
                    break
                forced.append(f"killed {pids} in {directory}")
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                time.sleep(0.1)
            with contextlib.suppress(OSError):
                directory.rmdir()
        return forced

    # -- inside -------------------------------------------------------------------------

    def run(
        self, command: str, *, check: bool = True, timeout: float = 300, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """`sh -c COMMAND` in the container as root, with a login-like clean environment."""
        if not self.leader:
            raise MachineError("the container is not running")
        argv = [
            "nsenter", "-t", str(self.leader), "-a",
            "env", "-i", f"PATH={CONTAINER_PATH}", "HOME=/root", "LANG=C.UTF-8", "TERM=dumb",
            "sh", "-c", command,
        ]  # fmt: skip
        result = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, input=stdin, check=False
        )
        if check and result.returncode != 0:
            raise MachineError(
                f"`{command}` failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
            )
        return result

    def nspawn_log(self) -> str:
        logs = sorted(self.run_dir.glob("nspawn-*.log"))
        return logs[-1].read_text(errors="replace")[-3000:] if logs else ""
