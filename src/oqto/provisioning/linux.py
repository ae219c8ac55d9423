"""The Linux side of provisioning one platform user, as steps (see `steps`), in this
order: the Linux user, its home from a skeleton, lingering, the runner user service. Used
by `oqtoctl user create` and by the usermgr helper (registration through the API).

Without systemd (containers, CI) lingering becomes "create /run/user/UID" and the runner is
started directly as the user, so the rest of the product works the same way there.
"""

from __future__ import annotations

import grp
import shutil
from dataclasses import dataclass
from pathlib import Path

from oqto.config.model import OqtoConfig, ProvisioningSection
from oqto.osutil.accounts import (
    PLATFORM_USER_COMMENT,
    AccountError,
    LinuxAccount,
    create_account,
    delete_account,
    lookup,
)
from oqto.osutil.runtime_dir import ensure_runtime_dir
from oqto.provisioning import processes, runner, systemd
from oqto.provisioning.asuser import python_as
from oqto.provisioning.steps import Step
from oqto.provisioning.units import DEFAULT_BIN_DIR, RUNNER_UNIT, installed_bin_dir, rendered_unit

FIRST_REGULAR_UID = 1000
NOBODY_UID = 65534
OQTO_SKELETON = Path("/etc/oqto/skel")
SYSTEM_SKELETON = Path("/etc/skel")


class ProvisioningError(Exception):
    pass


@dataclass(frozen=True)
class HostSettings:
    """What the Linux-side steps need to know about this host."""

    provisioning: ProvisioningSection
    socket_pattern: str
    service_user: str
    config_path: Path | None  # handed to runners started without systemd
    bin_dir: Path = DEFAULT_BIN_DIR  # where oqto-runner lives, for the runner unit
    use_systemd: bool = True


@dataclass
class LinuxUser:
    """State shared by the steps of one run."""

    name: str
    account: LinuxAccount | None = None
    runner_pid: int | None = None
    # Use an existing account Oqto did not create (the admin said so explicitly).
    adopt: bool = False

    def require(self) -> LinuxAccount:
        if self.account is None:
            raise ProvisioningError(f"Linux account {self.name!r} is not known yet")
        return self.account


def skeleton_dir(settings: ProvisioningSection) -> Path | None:
    if settings.skeleton is not None:
        return settings.skeleton
    for candidate in (OQTO_SKELETON, SYSTEM_SKELETON):
        if candidate.is_dir():
            return candidate
    return None


def check_not_in_service_group(account: LinuxAccount, service_user: str) -> None:
    """A platform account in the service group could read what only the control plane
    may (its data directory is group-readable)."""
    try:
        group = grp.getgrnam(service_user)
    except KeyError:
        return
    if account.gid == group.gr_gid or account.name in group.gr_mem:
        raise ProvisioningError(
            f"Linux account {account.name!r} is a member of the service group "
            f"{service_user!r}; remove it (gpasswd -d {account.name} {service_user}) first"
        )


def is_ours(account: LinuxAccount) -> bool:
    return account.gecos.startswith(PLATFORM_USER_COMMENT)


def adoptable(account: LinuxAccount) -> LinuxAccount:
    """An existing person's account may serve as a platform account, never a system one."""
    if account.uid < FIRST_REGULAR_UID or account.uid == NOBODY_UID:
        raise ProvisioningError(
            f"{account.name!r} (uid {account.uid}) is a system account; it cannot be adopted"
        )
    if not account.home.is_dir():
        raise ProvisioningError(f"home {account.home} of {account.name!r} does not exist")
    return account


@dataclass
class AccountStep:
    user: LinuxUser
    host: HostSettings
    title: str = "create the Linux user"

    def apply(self) -> bool:
        p = self.host.provisioning
        existing = lookup(self.user.name)
        existed = existing is not None
        if existing is not None and self.user.adopt:
            self.user.account = adoptable(existing)
            check_not_in_service_group(existing, self.host.service_user)
            return False
        home = p.home_base / self.user.name
        if not existed and (home.exists() or home.is_symlink()):
            # Left by an account deleted with --keep-home: a new account (maybe even with
            # the same uid) must not inherit someone else's files.
            raise ProvisioningError(
                f"{home} already exists but account {self.user.name!r} does not; move the "
                "old home away first"
            )
        try:
            self.user.account = create_account(
                self.user.name,
                uid_min=p.uid_min,
                uid_max=p.uid_max,
                shell=p.shell,
                home_base=p.home_base,
            )
        except AccountError as exc:
            raise ProvisioningError(str(exc)) from None
        check_not_in_service_group(self.user.account, self.host.service_user)
        if not self.user.account.home.is_dir():
            raise ProvisioningError(f"home {self.user.account.home} of {self.user.name} is missing")
        return not existed

    def undo(self) -> None:
        account = self.user.require()
        processes.kill_all(account.uid)
        delete_account(account.name, remove_home=True, comment=PLATFORM_USER_COMMENT)
        shutil.rmtree(f"/run/user/{account.uid}", ignore_errors=True)


@dataclass
class SkeletonStep:
    user: LinuxUser
    host: HostSettings
    title: str = "set up the home directory from the skeleton"

    def apply(self) -> bool:
        skeleton = skeleton_dir(self.host.provisioning)
        if skeleton is None or not skeleton.is_dir():
            if self.host.provisioning.skeleton is not None:
                raise ProvisioningError(f"skeleton {skeleton} is not a directory")
            return False
        self.title = f"set up the home directory from {skeleton}"
        copied = python_as(self.user.require(), "skeleton", str(skeleton)).strip()
        return copied not in ("", "0")

    def undo(self) -> None:
        # Files copied into a home we did not create stay: existing files always won, so
        # only new ones were added, and the account step removes homes it created.
        pass


@dataclass
class LingerStep:
    user: LinuxUser
    host: HostSettings
    title: str = "enable lingering"

    def apply(self) -> bool:
        account = self.user.require()
        changed = not systemd.linger_enabled(account.name)
        if changed:
            systemd.set_linger(account.name, True)
        systemd.start_user_manager(account, self.host.provisioning.runner_start_timeout_seconds)
        return changed

    def undo(self) -> None:
        account = self.user.require()
        systemd.set_linger(account.name, False)
        systemd.terminate_user(account.name)


@dataclass
class RuntimeDirStep:
    user: LinuxUser
    host: HostSettings
    title: str = "create /run/user/UID (no systemd: nothing else will)"

    def apply(self) -> bool:
        account = self.user.require()
        existed = Path(f"/run/user/{account.uid}").is_dir()
        ensure_runtime_dir(account.uid, account.gid)
        return not existed

    def undo(self) -> None:
        shutil.rmtree(f"/run/user/{self.user.require().uid}", ignore_errors=True)


@dataclass
class RunnerUnitStep:
    user: LinuxUser
    host: HostSettings
    title: str = f"install and start the runner user service ({RUNNER_UNIT})"
    _installed: bool = False

    def apply(self) -> bool:
        account = self.user.require()
        text = rendered_unit(RUNNER_UNIT, self.host.bin_dir)
        self._installed = python_as(account, "install-unit", RUNNER_UNIT, stdin=text).strip() == (
            "changed"
        )
        systemd.user_systemctl(account, "daemon-reload")
        before = systemd.user_unit_state(account, RUNNER_UNIT)
        action = "restart" if self._installed and before.active == "active" else "start"
        result = systemd.user_systemctl(account, "enable", RUNNER_UNIT, check=False)
        if result.returncode == 0:
            result = systemd.user_systemctl(account, action, RUNNER_UNIT, check=False)
        if result.returncode != 0:
            log = systemd.user_unit_log(account, RUNNER_UNIT)
            raise ProvisioningError(
                f"systemctl --user {action} {RUNNER_UNIT} failed: "
                f"{result.stderr.strip() or result.stdout.strip()}"
                + (f"\nits journal ends with:\n{log}" if log else "")
            )
        runner.wait_answering(
            runner.socket_path(self.host.socket_pattern, account),
            account.uid,
            self.host.provisioning.runner_start_timeout_seconds,
        )
        return self._installed or before.enabled != "enabled" or before.active != "active"

    def undo(self) -> None:
        account = self.user.require()
        systemd.user_systemctl(account, "disable", "--now", RUNNER_UNIT, check=False)
        if self._installed:
            python_as(account, "remove-unit", RUNNER_UNIT)


@dataclass
class DirectRunnerStep:
    user: LinuxUser
    host: HostSettings
    title: str = "start the runner directly (no systemd on this host)"

    def apply(self) -> bool:
        account = self.user.require()
        path = runner.socket_path(self.host.socket_pattern, account)
        try:
            runner.ping(path, account.uid)
            return False
        except runner.RunnerError:
            pass
        runner.stop_direct(account)  # a stale runner that no longer answers
        self.user.runner_pid = runner.start_direct(
            account,
            config=self.host.config_path,
            service_user=self.host.service_user,
            log_dir=self.host.provisioning.runner_log_dir,
            socket=path,
            timeout=self.host.provisioning.runner_start_timeout_seconds,
        )
        return True

    def undo(self) -> None:
        runner.stop_direct(self.user.require())


@dataclass
class VerifyRunnerStep:
    user: LinuxUser
    host: HostSettings
    title: str = "check that the runner answers"

    def apply(self) -> bool:
        account = self.user.require()
        pong = runner.ping(runner.socket_path(self.host.socket_pattern, account), account.uid)
        if pong.uid != account.uid:
            raise ProvisioningError(f"the runner answered as uid {pong.uid}, not {account.uid}")
        return True  # reported as done; there is nothing to undo

    def undo(self) -> None:
        pass


def linux_steps(user: LinuxUser, host: HostSettings) -> list[Step]:
    """The Linux side, in order: the Linux user, its home, lingering, the runner."""
    if host.use_systemd:
        return [
            AccountStep(user, host),
            SkeletonStep(user, host),
            LingerStep(user, host),
            RunnerUnitStep(user, host),
        ]
    return [
        AccountStep(user, host),
        SkeletonStep(user, host),
        RuntimeDirStep(user, host),
        DirectRunnerStep(user, host),
    ]


def host_settings(
    config: OqtoConfig, config_path: Path | None, *, use_systemd: bool | None = None
) -> HostSettings:
    return HostSettings(
        provisioning=config.provisioning,
        socket_pattern=config.local.runner_socket_pattern,
        service_user=config.runner.service_user,
        config_path=config_path,
        bin_dir=installed_bin_dir(),
        use_systemd=systemd.booted_with_systemd() if use_systemd is None else use_systemd,
    )
