"""Run a command as a platform user's own account.

Root must never write into a directory the user controls: the user could have replaced
`~/.config` with a symlink to `/etc` and have root write there. Everything inside a home
(skeleton files, the runner unit) is therefore written by a child that has dropped to the
user's uid first; at worst it damages the user's own files. `setpriv` (util-linux) changes
uid/gid/groups without PAM or a login session.
"""

from __future__ import annotations

import os
import subprocess
import sys

from oqto.osutil.accounts import LinuxAccount
from oqto.osutil.runtime_dir import user_runtime_dir

DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"


class AsUserError(Exception):
    pass


def user_environment(account: LinuxAccount) -> dict[str, str]:
    env = {
        "HOME": str(account.home),
        "USER": account.name,
        "LOGNAME": account.name,
        "SHELL": account.shell,
        "PATH": DEFAULT_PATH,
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    runtime = user_runtime_dir(account.uid)
    if runtime.is_dir():
        env["XDG_RUNTIME_DIR"] = str(runtime)
        bus = runtime / "bus"
        if bus.exists():
            env["DBUS_SESSION_BUS_ADDRESS"] = f"unix:path={bus}"
    return env


def setpriv_argv(account: LinuxAccount, argv: list[str]) -> list[str]:
    return [
        "setpriv",
        f"--reuid={account.uid}",
        f"--regid={account.gid}",
        "--init-groups",
        "--",
        *argv,
    ]


def run_as(
    account: LinuxAccount,
    argv: list[str],
    *,
    stdin: str | None = None,
    timeout: float = 60.0,
) -> subprocess.CompletedProcess[str]:
    """Run `argv` as `account` (root only); never raises on a non-zero exit."""
    if os.geteuid() != 0:
        raise AsUserError("running commands as another account requires root")
    try:
        return subprocess.run(
            setpriv_argv(account, argv),
            input=stdin,
            capture_output=True,
            text=True,
            env=user_environment(account),
            cwd="/",
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise AsUserError(
            f"{argv[0]} as {account.name} did not finish within {timeout:g} s"
        ) from None


def python_as(
    account: LinuxAccount, *args: str, stdin: str | None = None, timeout: float = 300.0
) -> str:
    """`python -m oqto.provisioning.userside ARGS` as the account; returns its stdout."""
    result = run_as(
        account,
        [sys.executable, "-m", "oqto.provisioning.userside", *args],
        stdin=stdin,
        timeout=timeout,
    )
    if result.returncode != 0:
        detail = result.stderr.strip().splitlines()[-1:] or ["no output"]
        raise AsUserError(f"{args[0]} as {account.name} failed: {detail[0]}")
    return result.stdout
