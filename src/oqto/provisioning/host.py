"""What the provisioning steps of one run share: this host's settings, the user being
provisioned, and the contract for keeping that user's runner running."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from oqto.config.model import ProvisioningSection
from oqto.config.paths import runner_socket_path
from oqto.osutil.accounts import LinuxAccount
from oqto.provisioning.steps import Step
from oqto.provisioning.units import DEFAULT_BIN_DIR


class ProvisioningError(Exception):
    pass


@dataclass
class LinuxUser:
    """State shared by the steps of one run."""

    name: str
    account: LinuxAccount | None = None
    # Use an existing account Oqto did not create (the admin said so explicitly).
    adopt: bool = False

    def require(self) -> LinuxAccount:
        if self.account is None:
            raise ProvisioningError(f"Linux account {self.name!r} is not known yet")
        return self.account


class RunnerLauncher(Protocol):
    """How a user's runner is started, restarted and stopped, as JupyterHub's Spawner is
    for its servers. `launchers.SystemdLauncher`: lingering and the runner user service,
    wherever systemd runs the host. `launchers.ProcessLauncher`: the runner spawned as the
    user, where there is no user manager (containers, CI, the multi-user tests)."""

    # Whether systemd keeps the runner running (restarts it, starts it at boot).
    systemd: bool

    def steps(self, user: LinuxUser, host: HostSettings) -> list[Step]:
        """The steps that make the runner run, once the account and its home exist."""
        ...

    def restart(self, account: LinuxAccount, host: HostSettings) -> None:
        """Restart the runner (its sessions keep running); returns once it was started."""
        ...

    def stop(self, account: LinuxAccount, *, ours: bool) -> None:
        """Stop the runner for good; for an account Oqto created (`ours`), also whatever
        keeps the account's processes alive."""
        ...

    def log_command(
        self, account: LinuxAccount, host: HostSettings, lines: int, follow: bool
    ) -> list[str]:
        """The command that shows the runner's log."""
        ...

    def describe(self, account: LinuxAccount) -> dict[str, Any]:
        """What the launcher knows about the runner, for `oqtoctl user show` and `runner
        status` (changes nothing)."""
        ...


@dataclass(frozen=True)
class HostSettings:
    """What the Linux-side steps need to know about this host."""

    provisioning: ProvisioningSection
    socket_pattern: str
    service_user: str
    config_path: Path | None  # handed to runners the launcher spawns itself
    launcher: RunnerLauncher
    bin_dir: Path = DEFAULT_BIN_DIR  # where oqto-runner lives, for the runner unit

    def runner_socket(self, account: LinuxAccount) -> Path:
        return runner_socket_path(self.socket_pattern, account.uid, account.name)
