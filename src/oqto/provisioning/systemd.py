"""Talking to systemd for one platform user: lingering, the user manager, and the runner
user service. Everything here is only used when the host was booted with systemd."""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from oqto.osutil.accounts import LinuxAccount
from oqto.osutil.runtime_dir import user_runtime_dir
from oqto.provisioning.asuser import run_as

LINGER_DIR = Path("/var/lib/systemd/linger")
_TOOL_PATH = "/usr/bin:/bin:/usr/sbin:/sbin"


class SystemdError(Exception):
    pass


def booted_with_systemd() -> bool:
    """sd_booted(): systemd creates this directory when it is PID 1."""
    return Path("/run/systemd/system").is_dir()


def _tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=_TOOL_PATH)
    if found is None:
        raise SystemdError(f"{name} not found (is systemd installed?)")
    return found


def _run(argv: list[str], timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise SystemdError(f"{' '.join(argv)} did not finish within {timeout:g} s") from None


def _output(result: subprocess.CompletedProcess[str]) -> str:
    return (result.stderr.strip() or result.stdout.strip() or "no output").replace("\n", "; ")


def linger_enabled(name: str) -> bool:
    return (LINGER_DIR / name).exists()


def set_linger(name: str, enabled: bool) -> None:
    verb = "enable-linger" if enabled else "disable-linger"
    result = _run([_tool("loginctl"), verb, name])
    if result.returncode != 0:
        raise SystemdError(f"loginctl {verb} {name} failed: {_output(result)}")


def terminate_user(name: str) -> None:
    """End the user's logind sessions and user manager (no error if there are none)."""
    _run([_tool("loginctl"), "terminate-user", name])


def user_manager_state(uid: int) -> str:
    result = _run([_tool("systemctl"), "is-active", f"user@{uid}.service"])
    return result.stdout.strip() or "unknown"


def private_socket(uid: int) -> Path:
    return user_runtime_dir(uid) / "systemd" / "private"


def start_user_manager(account: LinuxAccount, timeout: float) -> None:
    """Make sure user@UID.service runs and accepts `systemctl --user` (lingering starts it
    asynchronously; we wait for its private socket)."""
    if user_manager_state(account.uid) != "active":
        _run([_tool("systemctl"), "start", "--no-block", f"user@{account.uid}.service"])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if user_manager_state(account.uid) == "active" and private_socket(account.uid).exists():
            return
        time.sleep(0.1)
    raise SystemdError(
        f"the systemd user manager of {account.name} (user@{account.uid}.service) did not "
        f"come up within {timeout:g} s (state: {user_manager_state(account.uid)}); see "
        f"`journalctl -u user@{account.uid}.service`"
    )


def user_systemctl(
    account: LinuxAccount, *args: str, timeout: float = 120.0, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """`systemctl --user ARGS` as the account, over its manager's private socket (works
    without dbus-user-session; same effect as `systemctl --user -M NAME@ ARGS`)."""
    result = run_as(account, [_tool("systemctl"), "--user", *args], timeout=timeout)
    if check and result.returncode != 0:
        raise SystemdError(f"systemctl --user {' '.join(args)} failed: {_output(result)}")
    return result


@dataclass(frozen=True)
class UnitState:
    active: str  # active, inactive, failed, activating, ...
    sub: str
    enabled: str  # enabled, disabled, not-found, ...
    main_pid: int


def user_unit_state(account: LinuxAccount, unit: str) -> UnitState:
    result = user_systemctl(
        account,
        "show",
        unit,
        "--property=ActiveState,SubState,UnitFileState,MainPID",
        check=False,
        timeout=30,
    )
    props = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    return UnitState(
        active=props.get("ActiveState", "unknown"),
        sub=props.get("SubState", "unknown"),
        enabled=props.get("UnitFileState") or "not-found",
        main_pid=int(props.get("MainPID", "0") or 0),
    )


def user_unit_log(account: LinuxAccount, unit: str, lines: int = 15) -> str:
    """The unit's last journal lines (root reads every user's journal)."""
    result = _run(
        [
            _tool("journalctl"),
            f"_UID={account.uid}",
            f"_SYSTEMD_USER_UNIT={unit}",
            "+",
            f"USER_UNIT={unit}",
            f"_UID={account.uid}",
            "-n",
            str(lines),
            "--no-pager",
            "-o",
            "cat",
        ],
        timeout=30,
    )
    return result.stdout.strip()
