"""Provisioning without systemd (containers, CI): create the Linux account, set up its
home and /run/user/<uid>, register the platform user, and start its runner directly as
that account, with the environment a login would give it.

With systemd, `oqtoctl` instead enables lingering and lets the user manager run
`oqto-runner.service`; everything else is the same.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session as DBSession
from sqlalchemy.orm import sessionmaker

from oqto.control.auth.passwords import hash_password
from oqto.db.models import Role, User
from oqto.osutil.accounts import LinuxAccount, create_account
from oqto.osutil.runtime_dir import ensure_runtime_dir
from oqto.protocol.runner import Method
from oqto.provisioning.skeleton import copy_skeleton
from oqto.runner.client import RunnerClient
from oqto.userplane.base import UserPlaneError

RUNNER_START_TIMEOUT = 30.0


class ProvisioningError(Exception):
    pass


@dataclass
class Provisioned:
    user_id: str
    account: LinuxAccount
    runtime_dir: Path
    runner: subprocess.Popen[bytes] | None


def register_user(
    db: sessionmaker[DBSession], username: str, password: str, role: Role, account: LinuxAccount
) -> str:
    """Create (or bind) the platform user for `account`; returns the user id."""
    with db.begin() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            user = User(username=username, password_hash=hash_password(password), role=role)
            session.add(user)
        elif user.linux_user not in (None, account.name):
            raise ProvisioningError(
                f"user {username!r} is bound to Linux account {user.linux_user!r}, "
                f"not {account.name!r}"
            )
        user.linux_user = account.name
        user.linux_uid = account.uid
        session.flush()
        return user.id


def login_environment(account: LinuxAccount, runtime_dir: Path, path: str) -> dict[str, str]:
    """What pam_systemd/login would set for the account, and nothing of ours."""
    return {
        "HOME": str(account.home),
        "USER": account.name,
        "LOGNAME": account.name,
        "SHELL": account.shell,
        "PATH": path,
        "XDG_RUNTIME_DIR": str(runtime_dir),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
    }


def start_runner(
    account: LinuxAccount,
    runtime_dir: Path,
    *,
    config: Path | None,
    service_user: str,
    log_path: Path,
    path: str = "/usr/local/bin:/usr/bin:/bin",
) -> subprocess.Popen[bytes]:
    """Start `oqto-runner` as the account (root only), in its own session so it outlives
    the caller like a service would."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.touch(mode=0o600)
    os.chown(log_path, account.uid, account.gid)
    argv = [
        "setpriv",
        f"--reuid={account.uid}",
        f"--regid={account.gid}",
        "--init-groups",
        "--",
        sys.executable,
        "-m",
        "oqto.runner",
        "--service-user",
        service_user,
    ]
    if config is not None:
        argv += ["--config", str(config)]
    env = login_environment(account, runtime_dir, path)
    with log_path.open("ab") as log:
        return subprocess.Popen(
            argv,
            env=env,
            cwd=account.home,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


async def ping_runner(socket_path: Path, uid: int, call_timeout: float = 5.0) -> int:
    client = RunnerClient(socket_path, timeout=call_timeout, expected_uid=uid)
    try:
        result = await client.call(Method.PING, {})
    finally:
        await client.close()
    return int(result.uid)  # type: ignore[attr-defined]


def wait_for_runner(
    socket_path: Path, uid: int, runner: subprocess.Popen[bytes] | None, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if runner is not None and runner.poll() is not None:
            raise ProvisioningError(f"oqto-runner exited with status {runner.returncode}")
        try:
            asyncio.run(ping_runner(socket_path, uid))
            return
        except UserPlaneError as exc:
            last = exc.message
        time.sleep(0.1)
    raise ProvisioningError(f"runner at {socket_path} did not answer within {timeout:g} s: {last}")


def provision_user_without_systemd(
    db: sessionmaker[DBSession],
    username: str,
    password: str,
    *,
    linux_name: str,
    role: Role = Role.USER,
    skeleton: Path | None,
    config: Path | None,
    service_user: str,
    socket_pattern: str,
    runner_log: Path,
    path: str = "/usr/local/bin:/usr/bin:/bin",
) -> Provisioned:
    """The whole chain for one user, for tests and systemd-less hosts (root only)."""
    account = create_account(linux_name)
    if skeleton is not None and skeleton.is_dir():
        copy_skeleton(skeleton, account.home, account.uid, account.gid)
    runtime_dir = ensure_runtime_dir(account.uid, account.gid)
    user_id = register_user(db, username, password, role, account)
    runner = start_runner(
        account,
        runtime_dir,
        config=config,
        service_user=service_user,
        log_path=runner_log,
        path=path,
    )
    socket_path = Path(socket_pattern.format(uid=account.uid, user=account.name))
    try:
        wait_for_runner(socket_path, account.uid, runner, RUNNER_START_TIMEOUT)
    except BaseException:  # whatever went wrong, do not leave a runner nobody tracks
        runner.terminate()
        runner.wait(10)
        raise
    return Provisioned(user_id=user_id, account=account, runtime_dir=runtime_dir, runner=runner)
