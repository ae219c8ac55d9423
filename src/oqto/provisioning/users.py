"""Platform users end to end (used by `oqtoctl`): the steps of `user create` (Linux
account, home from a skeleton, lingering, runner service, database user), and the reverse
for `user delete`."""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session as DBSession
from sqlalchemy.orm import sessionmaker

from oqto.db.models import AuthToken, Role, User, utcnow
from oqto.osutil.accounts import AccountError, LinuxAccount, delete_account, lookup
from oqto.osutil.runtime_dir import user_runtime_dir
from oqto.protocol.runner import Empty, Method, SessionIdParams
from oqto.provisioning import processes
from oqto.provisioning.host import HostSettings, LinuxUser, ProvisioningError
from oqto.provisioning.linux import VerifyRunnerStep, is_ours, linux_steps
from oqto.provisioning.steps import Progress, Step, Transaction, quiet
from oqto.runner.client import RunnerClient
from oqto.userplane.base import UserPlaneError


@dataclass
class NewUser:
    username: str
    linux_user: str
    password_hash: str
    role: Role = Role.USER
    email: str | None = None
    adopt: bool = False


@dataclass
class RegisterStep:
    """The platform user in the control-plane database, bound to the account."""

    db: sessionmaker[DBSession]
    new: NewUser
    user: LinuxUser
    title: str = "register the user in the control-plane database"
    created: bool = False
    user_id: str = ""
    _bound: bool = False

    def apply(self) -> bool:
        account = self.user.require()
        with self.db.begin() as session:
            row = session.scalar(select(User).where(User.username == self.new.username))
            if row is None:
                row = User(
                    username=self.new.username,
                    password_hash=self.new.password_hash,
                    role=self.new.role,
                    email=self.new.email,
                    linux_user=account.name,
                    linux_uid=account.uid,
                )
                session.add(row)
                session.flush()
                self.created = True
            else:
                if row.linux_user not in (None, account.name) or row.linux_uid not in (
                    None,
                    account.uid,
                ):
                    raise ProvisioningError(
                        f"user {self.new.username!r} is bound to Linux account "
                        f"{row.linux_user!r} (uid {row.linux_uid}), not {account.name!r} "
                        f"(uid {account.uid}); refusing to rebind it"
                    )
                self._bound = row.linux_user is None
                row.linux_user, row.linux_uid = account.name, account.uid
                if self.new.email is not None:
                    row.email = self.new.email
            self.user_id = row.id
        return self.created or self._bound

    def undo(self) -> None:
        with self.db.begin() as session:
            if self.created:
                session.execute(delete(User).where(User.id == self.user_id))
            elif self._bound:
                session.execute(
                    update(User)
                    .where(User.id == self.user_id)
                    .values(linux_user=None, linux_uid=None)
                )


def create_steps(
    db: sessionmaker[DBSession], new: NewUser, host: HostSettings
) -> tuple[list[Step], LinuxUser, RegisterStep]:
    user = LinuxUser(new.linux_user, adopt=new.adopt)
    register = RegisterStep(db, new, user)
    steps: list[Step] = [*linux_steps(user, host), register, VerifyRunnerStep(user, host)]
    return steps, user, register


def create_user(
    db: sessionmaker[DBSession], new: NewUser, host: HostSettings, progress: Progress = quiet
) -> tuple[LinuxUser, RegisterStep]:
    """All six steps, in order; on failure everything this run changed is undone and
    `StepFailed` names the step."""
    steps, user, register = create_steps(db, new, host)
    Transaction(progress=progress).run(steps)
    return user, register


# -- the reverse ----------------------------------------------------------------------


def find_user(db: sessionmaker[DBSession], name: str) -> User | None:
    """By platform user name, else by the Linux account it is bound to."""
    with db() as session:
        row = session.scalar(select(User).where(User.username == name))
        if row is None:
            row = session.scalar(select(User).where(User.linux_user == name))
        return row


def stop_runner_and_processes(account: LinuxAccount, host: HostSettings) -> None:
    """Everything the account runs: its runner, sessions and user manager. An adopted
    account (a person's own) only loses its runner and sessions, not its other processes."""
    ours = is_ours(account)
    if not ours:
        stop_sessions(account, host)
    host.launcher.stop(account, ours=ours)
    if ours:
        processes.kill_all(account.uid)


@dataclass
class Removal:
    db_user: bool = False
    account: bool = False
    home_kept: Path | None = None
    notes: list[str] = field(default_factory=list)


def remove_user(
    db: sessionmaker[DBSession],
    name: str,
    host: HostSettings,
    *,
    keep_home: bool,
    linux_user: str | None = None,
) -> Removal:
    """Stop everything, drop the DB user, then the Linux account (in that order: a DB
    user never outlives its account). Idempotent: a half-finished earlier delete is
    completed."""
    done = Removal()
    row = find_user(db, name)
    account_name = (row.linux_user if row else None) or linux_user
    account = lookup(account_name) if account_name else None
    if row is not None and account is not None and row.linux_uid not in (None, account.uid):
        raise ProvisioningError(
            f"Linux account {account.name!r} now has uid {account.uid}, not {row.linux_uid}; "
            "refusing to touch it"
        )
    if row is None and account is None:
        raise ProvisioningError(f"no user {name!r} and no Linux account to remove")
    if account is not None:
        stop_runner_and_processes(account, host)
    if row is not None:
        with db.begin() as session:
            session.execute(delete(User).where(User.id == row.id))
        done.db_user = True
    if account is not None and not is_ours(account):
        done.notes.append(f"Linux account {account.name} was adopted, not created by Oqto: kept")
    elif account is not None:
        try:
            delete_account(account.name, remove_home=not keep_home)
        except AccountError as exc:
            raise ProvisioningError(str(exc)) from None
        done.account = True
        if keep_home and account.home.exists():
            done.home_kept = account.home
        shutil.rmtree(user_runtime_dir(account.uid), ignore_errors=True)
    return done


# -- smaller operations -----------------------------------------------------------------


def set_disabled(db: sessionmaker[DBSession], user_id: str, disabled: bool) -> int:
    """Returns how many live tokens were revoked (all of them, when disabling)."""
    with db.begin() as session:
        session.execute(update(User).where(User.id == user_id).values(disabled=disabled))
        if not disabled:
            return 0
        result = session.execute(
            update(AuthToken)
            .where(AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def set_password(db: sessionmaker[DBSession], user_id: str, password_hash: str) -> int:
    """New password; every existing login is revoked. Returns how many."""
    with db.begin() as session:
        session.execute(update(User).where(User.id == user_id).values(password_hash=password_hash))
        result = session.execute(
            update(AuthToken)
            .where(AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


async def _stop_sessions(path: Path, uid: int) -> list[str]:
    client = RunnerClient(path, timeout=15, expected_uid=uid, agent="oqtoctl")
    try:
        listed = await client.call(Method.SESSION_LIST, Empty())
        stopped = []
        for session in listed.sessions:
            await client.call(Method.SESSION_STOP, SessionIdParams(id=session.id), time_limit=60)
            stopped.append(session.id)
        return stopped
    finally:
        await client.close()


def stop_sessions(account: LinuxAccount, host: HostSettings) -> list[str]:
    """Stop every session of the account through its runner; [] if it is not running."""
    try:
        return asyncio.run(_stop_sessions(host.runner_socket(account), account.uid))
    except UserPlaneError:
        return []
