"""Can this account sandbox at all? bwrap must exist and make the namespaces a session gets.

One trivial sandbox run (a few milliseconds) answers it. A success is remembered for the
life of the process; a failure is not, so fixing the host needs no restart.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from oqto.sandbox.bwrap import ALWAYS
from oqto.sandbox.policy import SandboxRefused

_TIMEOUT = 10.0
_SYSCTL = Path("/proc/sys")
_passed: set[str] = set()

# What every sandbox makes (bwrap.build_argv) with the strictest policy, minus the rules.
_PROBE = (
    *ALWAYS,
    "--unshare-pid",
    "--unshare-net",
    "--ro-bind",
    "/",
    "/",
    "--dev",
    "/dev",
    "--proc",
    "/proc",
    "--",
    "true",
)


def check(bwrap: str) -> None:
    """Raise SandboxRefused, saying how to fix the host, unless `bwrap` can sandbox here."""
    if bwrap in _passed:
        return
    binary = shutil.which(bwrap)
    if binary is None:
        raise SandboxRefused(
            f"bubblewrap ({bwrap!r}) is not installed: install it (`apt-get install "
            "bubblewrap`) or point `[sandbox] bwrap` in the Oqto config at its path"
        )
    try:
        done = subprocess.run([binary, *_PROBE], capture_output=True, text=True, timeout=_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxRefused(f"{binary} could not run a trivial sandbox: {exc}") from exc
    if done.returncode != 0:
        said = done.stderr.strip() or f"exit status {done.returncode}"
        raise SandboxRefused(f"{binary} cannot make a sandbox here ({said}). {_hint(binary)}")
    _passed.add(bwrap)


def _sysctl(name: str) -> str | None:
    try:
        return (_SYSCTL / name.replace(".", "/")).read_text().strip()
    except OSError:
        return None


def _hint(binary: str) -> str:
    """How to fix the known reasons unprivileged user namespaces fail."""
    if _sysctl("kernel.apparmor_restrict_unprivileged_userns") == "1":
        return (
            "AppArmor restricts unprivileged user namespaces "
            "(kernel.apparmor_restrict_unprivileged_userns=1, Ubuntu 24.04's default). "
            "Either give bwrap an AppArmor profile that allows them: write "
            f"/etc/apparmor.d/bwrap containing `abi <abi/4.0>, include <tunables/global> "
            f"profile bwrap {binary} flags=(unconfined) {{ userns, }}` and run "
            "`apparmor_parser -r /etc/apparmor.d/bwrap`; or lift the restriction for every "
            "program: `sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` (persist "
            "it in /etc/sysctl.d/)."
        )
    if _sysctl("kernel.unprivileged_userns_clone") == "0":
        return (
            "Unprivileged user namespaces are off (kernel.unprivileged_userns_clone=0): "
            "`sysctl -w kernel.unprivileged_userns_clone=1` (persist it in /etc/sysctl.d/)."
        )
    if _sysctl("user.max_user_namespaces") == "0":
        return (
            "User namespaces are off (user.max_user_namespaces=0): "
            "`sysctl -w user.max_user_namespaces=15000` (persist it in /etc/sysctl.d/)."
        )
    return (
        "The sandbox needs unprivileged user, PID and network namespaces; check the "
        "kernel's user-namespace settings and any security module (AppArmor, SELinux) "
        "confining bwrap."
    )
