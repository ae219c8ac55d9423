"""Per-session cgroup limits through the user's own systemd manager.

Every service of a session runs in a transient scope (`systemd-run --user --scope`) in the
session's slice `oqto-<sid>.slice`, which systemd nests under the user's `oqto.slice` (a
dash in a slice name is a level of the hierarchy). The session's limits are properties of
its slice, so they bound the session's total, whatever it spawns; the user's limit is a
property of `oqto.slice`, so it bounds all their sessions together. This needs a cgroup2
host whose system manager delegates the memory, pids and cpu controllers to user managers
(systemd >= 252 does: `Delegate=pids memory cpu` in user@.service).

For a session: `apply` (sets the slice properties) before its first service, `wrap` each
service's argv, `cleanup` after the services stopped (kills what is left, forgets the slice).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import re
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from oqto.osutil.runtime_dir import user_runtime_dir
from oqto.sandbox.policy import Limits, SandboxRefused

CGROUP_ROOT = Path("/sys/fs/cgroup")
USER_SLICE = "oqto.slice"
CONTROLLERS = ("memory", "pids", "cpu")
# Session ids are 16 hex digits; anything else could be a dash (a slice level) or worse.
_SAFE_NAME = re.compile(r"[0-9A-Za-z]{1,64}")
_TIMEOUT = 30.0


@dataclass(frozen=True)
class LimitsSupport:
    """Whether this account can confine sessions in cgroups, and if not, why."""

    available: bool
    reason: str = ""  # why not, when not available
    runtime_dir: Path | None = None  # the user manager's XDG_RUNTIME_DIR
    manager_cgroup: str = ""  # the user manager's cgroup, relative to the cgroup2 root


def _unavailable(reason: str) -> LimitsSupport:
    return LimitsSupport(available=False, reason=reason)


def _tool_env(runtime_dir: Path) -> dict[str, str]:
    return {**os.environ, "XDG_RUNTIME_DIR": str(runtime_dir)}


def _first_line(result: subprocess.CompletedProcess[str]) -> str:
    text = result.stderr.strip() or result.stdout.strip() or f"exit status {result.returncode}"
    return text.splitlines()[0]


def detect(
    *, cgroup_root: Path = CGROUP_ROOT, environ: dict[str, str] | None = None
) -> LimitsSupport:
    """Probe this process's account: a cgroup2 host, a reachable user systemd manager,
    the controllers delegated to it, and `systemd-run --user --scope` actually working."""
    env = dict(os.environ if environ is None else environ)
    uid = os.getuid()
    if not (cgroup_root / "cgroup.controllers").is_file():
        return _unavailable(
            f"cgroup v1 host: {cgroup_root} is not a cgroup2 hierarchy, so there is no "
            "cgroup2 memory controller"
        )
    systemctl, systemd_run = shutil.which("systemctl"), shutil.which("systemd-run")
    if systemctl is None or systemd_run is None:
        return _unavailable("systemctl or systemd-run not found: systemd is not installed")
    runtime_dir = Path(env.get("XDG_RUNTIME_DIR") or user_runtime_dir(uid))
    if not ((runtime_dir / "systemd" / "private").exists() or (runtime_dir / "bus").exists()):
        return _unavailable(
            f"no user systemd manager for uid {uid}: neither {runtime_dir}/systemd/private "
            f"nor {runtime_dir}/bus exists (enable lingering for the account)"
        )
    tool_env = {**env, "XDG_RUNTIME_DIR": str(runtime_dir)}
    try:
        shown = subprocess.run(
            [systemctl, "--user", "show", "--property=ControlGroup", "--value"],
            capture_output=True,
            text=True,
            env=tool_env,
            timeout=_TIMEOUT,
            check=False,
        )
        if shown.returncode != 0 or not shown.stdout.strip().startswith("/"):
            return _unavailable(f"no user systemd manager for uid {uid}: {_first_line(shown)}")
        cgroup = shown.stdout.strip()
        try:
            have = set(
                (cgroup_root / cgroup.lstrip("/") / "cgroup.controllers").read_text().split()
            )
        except OSError as exc:
            return _unavailable(f"cannot read the user manager's cgroup {cgroup}: {exc.strerror}")
        missing = [c for c in CONTROLLERS if c not in have]
        if missing:
            return _unavailable(
                f"the {', '.join(missing)} controller(s) are not delegated to uid {uid}'s "
                f"systemd manager ({cgroup} has: {' '.join(sorted(have)) or 'none'}); "
                "user@.service needs Delegate=pids memory cpu"
            )
        probe = subprocess.run(
            [systemd_run, "--user", "--scope", "--quiet", "--collect", "true"],
            capture_output=True,
            text=True,
            env=tool_env,
            timeout=_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        return _unavailable(f"uid {uid}'s systemd manager did not answer {exc.cmd[:3]} in time")
    if probe.returncode != 0:
        return _unavailable(f"systemd-run --user --scope fails for uid {uid}: {_first_line(probe)}")
    return LimitsSupport(available=True, runtime_dir=runtime_dir, manager_cgroup=cgroup)


@functools.cache
def support() -> LimitsSupport:
    """`detect()` once per process: the account and its manager do not change under us."""
    return detect()


def _checked(kind: str, value: str) -> str:
    if not _SAFE_NAME.fullmatch(value):
        raise ValueError(f"{kind} {value!r} is not 1-64 ASCII letters and digits")
    return value


def session_slice(session_id: str) -> str:
    return f"oqto-{_checked('session id', session_id)}.slice"


def session_properties(limits: Limits) -> list[str]:
    """The session slice's properties. No swap: a hog is stopped at memory_max rather
    than pushed into the host's swap."""
    props = []
    if limits.memory_max is not None:
        props += [f"MemoryMax={limits.memory_max}", "MemorySwapMax=0"]
    if limits.tasks_max is not None:
        props.append(f"TasksMax={limits.tasks_max}")
    if limits.cpu_weight is not None:
        props.append(f"CPUWeight={limits.cpu_weight}")
    return props


def user_properties(user_memory_max: int | None) -> list[str]:
    # Always set: a limit the admin has since removed must not stay on the slice.
    if user_memory_max is None:
        return ["MemoryMax=infinity", "MemorySwapMax=infinity"]
    return [f"MemoryMax={user_memory_max}", "MemorySwapMax=0"]


def _available() -> LimitsSupport:
    found = support()
    if not found.available:
        raise SandboxRefused(f"cgroup limits cannot be enforced: {found.reason}")
    return found


async def _systemctl(found: LimitsSupport, *args: str) -> tuple[int, str]:
    assert found.runtime_dir is not None
    proc = await asyncio.create_subprocess_exec(
        "systemctl",
        "--user",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=_tool_env(found.runtime_dir),
    )
    try:
        _, err = await asyncio.wait_for(proc.communicate(), _TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return -1, f"systemctl --user {args[0]} did not finish within {_TIMEOUT:g} s"
    return proc.returncode or 0, err.decode(errors="replace").strip()


async def apply(session_id: str, limits: Limits, user_memory_max: int | None) -> None:
    """Set the user's and the session's slice properties (runtime only: they go with the
    next boot, as the session does). Await before the session's first wrapped process;
    raises SandboxRefused when this account cannot have them."""
    found = _available()
    for unit, props in (
        (USER_SLICE, user_properties(user_memory_max)),
        (session_slice(session_id), session_properties(limits)),
    ):
        if not props:
            continue
        code, err = await _systemctl(found, "set-property", "--runtime", unit, *props)
        if code != 0:
            raise SandboxRefused(f"cannot set {' '.join(props)} on {unit}: {err}")


def wrap(argv: list[str], *, session_id: str, service: str) -> list[str]:
    """`argv` run in a scope of its own in the session's slice (whose limits `apply` set).
    systemd-run execs the command itself, so the caller's child is still the service."""
    found = _available()
    assert found.runtime_dir is not None
    unit = f"oqto-{_checked('session id', session_id)}-{_checked('service', service)}"
    return [
        "env",
        f"XDG_RUNTIME_DIR={found.runtime_dir}",
        "systemd-run",
        "--user",
        "--scope",
        "--quiet",
        "--collect",
        # Unique per start: a restarted service must not collide with its old scope.
        f"--unit={unit}-{secrets.token_hex(3)}",
        f"--slice={session_slice(session_id)}",
        "--",
        *argv,
    ]


def session_cgroup(session_id: str) -> Path:
    found = _available()
    return CGROUP_ROOT / found.manager_cgroup.lstrip("/") / USER_SLICE / session_slice(session_id)


async def cleanup(session_id: str) -> None:
    """Kill whatever is still in the session's slice (its services have had their stop),
    stop the slice and drop its properties. Idempotent."""
    found = support()
    if not found.available:
        return
    unit = session_slice(session_id)
    kill = session_cgroup(session_id) / "cgroup.kill"
    # The whole subtree at once, without a race against forks; absent when the slice
    # never started or is already gone.
    with contextlib.suppress(FileNotFoundError):
        kill.write_text("1")
    await _systemctl(found, "stop", unit)
    await _systemctl(found, "revert", unit)


def usage(session_id: str) -> dict[str, int]:
    """The session's current memory (bytes) and task count; empty when not confined."""
    if not support().available:
        return {}
    found: dict[str, int] = {}
    cgroup = session_cgroup(session_id)
    for key, name in (("memory_current", "memory.current"), ("tasks_current", "pids.current")):
        try:
            found[key] = int((cgroup / name).read_text())
        except (OSError, ValueError):
            continue
    return found
