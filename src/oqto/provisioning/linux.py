"""The Linux side of provisioning one platform user, as steps (see `steps`), in this
order: the Linux user, its home from a skeleton, then whatever the host's runner launcher
needs to make the runner run (see `launchers`). Used by `oqtoctl user create`, by the
usermgr helper (registration through the API) and by the multi-user tests.
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
from oqto.osutil.runtime_dir import user_runtime_dir
from oqto.provisioning import processes, runner, systemd
from oqto.provisioning.asuser import python_as
from oqto.provisioning.host import HostSettings, LinuxUser, ProvisioningError, RunnerLauncher
from oqto.provisioning.launchers import ProcessLauncher, SystemdLauncher
from oqto.provisioning.steps import Step
from oqto.provisioning.units import installed_bin_dir

FIRST_REGULAR_UID = 1000
NOBODY_UID = 65534
OQTO_SKELETON = Path("/etc/oqto/skel")
SYSTEM_SKELETON = Path("/etc/skel")


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
        shutil.rmtree(user_runtime_dir(account.uid), ignore_errors=True)


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
class VerifyRunnerStep:
    user: LinuxUser
    host: HostSettings
    title: str = "check that the runner answers"

    def apply(self) -> bool:
        account = self.user.require()
        pong = runner.ping(self.host.runner_socket(account), account.uid)
        if pong.uid != account.uid:
            raise ProvisioningError(f"the runner answered as uid {pong.uid}, not {account.uid}")
        return True  # reported as done; there is nothing to undo

    def undo(self) -> None:
        pass


def linux_steps(user: LinuxUser, host: HostSettings) -> list[Step]:
    """The Linux side, in order: the Linux user, its home, the runner."""
    return [AccountStep(user, host), SkeletonStep(user, host), *host.launcher.steps(user, host)]


def default_launcher() -> RunnerLauncher:
    """systemd's user manager where systemd runs the host, else a spawned process."""
    return SystemdLauncher() if systemd.booted_with_systemd() else ProcessLauncher()


def host_settings(
    config: OqtoConfig, config_path: Path | None, *, launcher: RunnerLauncher | None = None
) -> HostSettings:
    return HostSettings(
        provisioning=config.provisioning,
        socket_pattern=config.local.runner_socket_pattern,
        service_user=config.runner.service_user,
        config_path=config_path,
        launcher=launcher or default_launcher(),
        bin_dir=installed_bin_dir(),
    )
