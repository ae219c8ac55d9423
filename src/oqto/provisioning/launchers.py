"""The two ways a user's runner is kept running (see `host.RunnerLauncher`), each with the
provisioning steps that set it up."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

from oqto.osutil.accounts import LinuxAccount
from oqto.osutil.runtime_dir import ensure_runtime_dir, user_runtime_dir
from oqto.provisioning import processes, runner, systemd
from oqto.provisioning.asuser import python_as
from oqto.provisioning.host import HostSettings, LinuxUser, ProvisioningError
from oqto.provisioning.steps import Step
from oqto.provisioning.units import RUNNER_UNIT, rendered_unit

# -- systemd: lingering and the runner user service ----------------------------------


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
            self.host.runner_socket(account),
            account.uid,
            self.host.provisioning.runner_start_timeout_seconds,
        )
        return self._installed or before.enabled != "enabled" or before.active != "active"

    def undo(self) -> None:
        account = self.user.require()
        systemd.user_systemctl(account, "disable", "--now", RUNNER_UNIT, check=False)
        if self._installed:
            python_as(account, "remove-unit", RUNNER_UNIT)


class SystemdLauncher:
    """The runner as `oqto-runner.service` of the user's own systemd manager, which
    lingering starts at boot and keeps without a login."""

    systemd = True

    def steps(self, user: LinuxUser, host: HostSettings) -> list[Step]:
        return [LingerStep(user, host), RunnerUnitStep(user, host)]

    def restart(self, account: LinuxAccount, host: HostSettings) -> None:
        systemd.start_user_manager(account, host.provisioning.runner_start_timeout_seconds)
        systemd.user_systemctl(account, "restart", RUNNER_UNIT)

    def stop(self, account: LinuxAccount, *, ours: bool) -> None:
        if systemd.private_socket(account.uid).exists():
            systemd.user_systemctl(account, "disable", "--now", RUNNER_UNIT, check=False)
        if ours:
            if systemd.linger_enabled(account.name):
                systemd.set_linger(account.name, False)
            systemd.terminate_user(account.name)

    def log_command(
        self, account: LinuxAccount, host: HostSettings, lines: int, follow: bool
    ) -> list[str]:
        # `journalctl --user-unit ... -M alice@` needs a newer systemd than Debian 12's;
        # root can match the user unit's records directly.
        argv = ["journalctl", f"_SYSTEMD_USER_UNIT={RUNNER_UNIT}", f"_UID={account.uid}"]
        return [*argv, "-n", str(lines), "--no-pager", *(["-f"] if follow else [])]

    def describe(self, account: LinuxAccount) -> dict[str, Any]:
        info: dict[str, Any] = {"linger": systemd.linger_enabled(account.name)}
        if not systemd.private_socket(account.uid).exists():
            return info | {"systemd": {"active": "no user manager"}}
        state = systemd.user_unit_state(account, RUNNER_UNIT)
        return info | {
            "systemd": {
                "active": state.active,
                "sub": state.sub,
                "enabled": state.enabled,
                "main_pid": state.main_pid,
            }
        }


# -- no user manager: /run/user/UID and a runner spawned as the user -----------------


@dataclass
class RuntimeDirStep:
    user: LinuxUser
    host: HostSettings
    title: str = "create /run/user/UID (no systemd: nothing else will)"

    def apply(self) -> bool:
        account = self.user.require()
        existed = user_runtime_dir(account.uid).is_dir()
        ensure_runtime_dir(account.uid, account.gid)
        return not existed

    def undo(self) -> None:
        shutil.rmtree(user_runtime_dir(self.user.require().uid), ignore_errors=True)


@dataclass
class SpawnRunnerStep:
    user: LinuxUser
    host: HostSettings
    launcher: ProcessLauncher
    title: str = "start the runner directly (no systemd on this host)"

    def apply(self) -> bool:
        account = self.user.require()
        try:
            runner.ping(self.host.runner_socket(account), account.uid)
            return False
        except runner.RunnerError:
            pass
        # Whatever still runs there no longer answers.
        self.launcher.restart(account, self.host)
        return True

    def undo(self) -> None:
        self.launcher.stop(self.user.require(), ours=False)


class ProcessLauncher:
    """The runner spawned as the user, in its own session, writing to `[provisioning]
    runner_log_dir`. Nothing restarts it after a crash or a reboot (`oqtoctl runner
    start NAME` does). The runners this launcher spawned stay its children, for a caller
    that supervises them (the multi-user tests kill and restart them)."""

    systemd = False

    def __init__(self) -> None:
        self._children: dict[int, subprocess.Popen[bytes]] = {}

    def child(self, uid: int) -> subprocess.Popen[bytes] | None:
        """The runner this launcher spawned for `uid`, if it did."""
        return self._children.get(uid)

    def steps(self, user: LinuxUser, host: HostSettings) -> list[Step]:
        return [RuntimeDirStep(user, host), SpawnRunnerStep(user, host, self)]

    def restart(self, account: LinuxAccount, host: HostSettings) -> None:
        self.stop(account, ours=False)
        # A child that exited stays a zombie until polled; a long-lived caller
        # (oqto-usermgr) must not collect them.
        for uid, child in list(self._children.items()):
            if child.poll() is not None:
                del self._children[uid]
        self._children[account.uid] = runner.start_direct(
            account,
            config=host.config_path,
            service_user=host.service_user,
            log_dir=host.provisioning.runner_log_dir,
            socket=host.runner_socket(account),
            timeout=host.provisioning.runner_start_timeout_seconds,
        )

    def stop(self, account: LinuxAccount, *, ours: bool) -> None:
        runner.stop_direct(account)
        child = self._children.pop(account.uid, None)
        if child is not None and child.poll() is None:
            child.kill()
            child.wait()

    def log_command(
        self, account: LinuxAccount, host: HostSettings, lines: int, follow: bool
    ) -> list[str]:
        log = runner.log_path(host.provisioning.runner_log_dir, account)
        return ["tail", "-n", str(lines), *(["-f"] if follow else []), str(log)]

    def describe(self, account: LinuxAccount) -> dict[str, Any]:
        return {"systemd": None, "pids": processes.runner_pids(account.uid)}
