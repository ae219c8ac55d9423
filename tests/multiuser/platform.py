"""A multi-user Oqto for tests: a service account running `oqto serve` (not root), and
platform users with real Linux accounts and runners, all removed afterwards.

Users are provisioned by the pipeline `oqtoctl user create` and the usermgr helper run
(`oqto.provisioning.users.create_user`), with the launcher for hosts without a systemd
user manager: each runner is a child of the test process, which can kill and restart it."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from tests.support.server import OPENCODE_HOME, TOOLS_BIN, VENV_BIN, free_port, wait_for

from oqto.config import load_config
from oqto.config.model import OqtoConfig
from oqto.control.auth.passwords import hash_password
from oqto.osutil.accounts import LinuxAccount, lookup
from oqto.protocol.names import linux_name_for
from oqto.provisioning import runner, users
from oqto.provisioning.database import open_sessionmaker
from oqto.provisioning.host import HostSettings
from oqto.provisioning.launchers import ProcessLauncher
from oqto.provisioning.linux import host_settings

PREFIX = "oqtotest_"
PASSWORD = "multi-user-pass-1"


def python_as(account: LinuxAccount, code: str, *args: str) -> list[str]:
    """The command line that runs Python `code` as another account."""
    setpriv = ["setpriv", f"--reuid={account.uid}", f"--regid={account.gid}", "--init-groups"]
    return [*setpriv, "--", "/usr/bin/python3", "-c", code, *args]


def run_as(account: LinuxAccount, code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run Python `code` as another account, with nothing of ours in its environment."""
    return subprocess.run(
        python_as(account, code, *args),
        env={"PATH": "/usr/bin:/bin", "HOME": str(account.home)},
        capture_output=True,
        text=True,
        timeout=60,
    )


CONNECT_UNIX = """
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print(type(e).__name__, e.errno)
    sys.exit(0)
try:
    s.sendall(b'{"type":"hello","protocol":1,"agent":"intruder"}\\n')
    data = s.recv(4096)
except OSError:  # refused after accept: the peer reset the connection
    data = b""
print("CONNECTED", repr(data))
"""


@dataclass
class PlatformUser:
    name: str
    account: LinuxAccount
    log: Path
    launcher: ProcessLauncher
    token: str = ""

    @property
    def runner(self) -> subprocess.Popen[bytes] | None:
        """The user's runner process, while the one the platform started is its runner."""
        return self.launcher.child(self.account.uid)


@dataclass
class MultiUserPlatform:
    root: Path
    service: LinuxAccount
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    users: list[PlatformUser] = field(default_factory=list)
    launcher: ProcessLauncher = field(default_factory=ProcessLauncher)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def config(self) -> Path:
        return self.root / "config.toml"

    @property
    def sandbox_path(self) -> Path:
        """The admin sandbox file; absent unless a test writes it (the built-in default)."""
        return self.root / "sandbox.toml"

    def write_config(self, opencode_json: Path, skeleton: Path) -> None:
        self.config.write_text(
            f"""
[server]
listen = "127.0.0.1:{self.port}"
data_dir = "{self.root / "cp-data"}"

[provisioning]
linux_user_prefix = "{PREFIX}"
skeleton = "{skeleton}"
runner_log_dir = "{self.root / "runner-logs"}"

[runner]
service_user = "{self.service.name}"
reconcile_interval_seconds = 1

[opencode]
binary = "{TOOLS_BIN / "opencode"}"
config_file = "{opencode_json}"
start_timeout_seconds = 240

[ttyd]
binary = "{TOOLS_BIN / "ttyd"}"

[sessions]
stop_grace_seconds = 3

[sandbox]
config = "{self.sandbox_path}"
"""
        )
        self.config.chmod(0o644)

    def settings(self) -> tuple[OqtoConfig, HostSettings]:
        loaded = load_config(self.config, environ={})
        return loaded.config, host_settings(loaded.config, loaded.path, launcher=self.launcher)

    def start(self) -> None:
        data = self.root / "cp-data"
        data.mkdir(exist_ok=True, mode=0o700)
        os.chown(data, self.service.uid, self.service.gid)
        log = (self.root / "cp.log").open("ab")
        self.proc = subprocess.Popen(
            [
                "setpriv",
                f"--reuid={self.service.uid}",
                f"--regid={self.service.gid}",
                "--init-groups",
                "--",
                str(VENV_BIN / "oqto"),
                "serve",
                "--config",
                str(self.config),
                "--mode",
                "local",
            ],
            env={
                "PATH": "/usr/bin:/bin",
                "HOME": str(data),
                "OQTO_ADMIN_PASSWORD": PASSWORD,
                "LANG": "C.UTF-8",
            },
            cwd=data,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        def healthy() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"control plane exited:\n{self.log()}")
            return httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200

        wait_for(healthy, 60, "the multi-user control plane")

    def log(self) -> str:
        return (self.root / "cp.log").read_text(errors="replace")

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(sig)
        self.proc.wait(60)

    def login(self, name: str, password: str = PASSWORD) -> str:
        response = httpx.post(
            f"{self.url}/api/auth/login", json={"username": name, "password": password}
        )
        assert response.status_code == 200, response.text
        return str(response.json()["token"])

    def client(self, user: PlatformUser) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {user.token}"}, timeout=120
        )

    def add_user(self) -> PlatformUser:
        name = f"u{secrets.token_hex(3)}"
        config, host = self.settings()
        linux_name = linux_name_for(name, config.provisioning.linux_user_prefix)
        new = users.NewUser(name, linux_name, hash_password(PASSWORD))
        engine, db = open_sessionmaker(config)
        try:
            linux, _registered = users.create_user(db, new, host)
        except BaseException:
            # A failed create is rolled back, but an interrupted one may leave the account,
            # and the session teardown only knows added users.
            if (account := lookup(linux_name)) is not None:
                remove_account(account)
            raise
        finally:
            engine.dispose()
        account = linux.require()
        log = runner.log_path(config.provisioning.runner_log_dir, account)
        user = PlatformUser(name=name, account=account, log=log, launcher=self.launcher)
        user.token = self.login(user.name)
        self.users.append(user)
        return user

    def restart_runner(self, user: PlatformUser) -> None:
        _config, host = self.settings()
        self.launcher.restart(user.account, host)

    def runner_socket(self, user: PlatformUser) -> Path:
        return self.settings()[1].runner_socket(user.account)


def make_skeleton(root: Path) -> Path:
    """A home skeleton carrying opencode's warmed plugin directory, so each new account
    does not download ~100 MB of npm packages."""
    skeleton = root / "skel"
    source = OPENCODE_HOME / ".config" / "opencode"
    if source.is_dir():
        shutil.copytree(source, skeleton / ".config" / "opencode", symlinks=True)
    skeleton.mkdir(exist_ok=True)
    return skeleton


def opencode_json_for(root: Path, base_url: str) -> Path:
    from tests.support.fake_llm import opencode_config

    path = root / "opencode.json"
    path.write_text(json.dumps(opencode_config(base_url)))
    path.chmod(0o644)
    return path


def proc_stat(pid: int) -> list[str]:
    """Fields of /proc/<pid>/stat after the command name (state first, then ppid...)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def alive(pid: int) -> bool:
    try:
        return proc_stat(pid)[0] != "Z"
    except OSError:
        return False


def live_pids(uid: int) -> list[int]:
    """Processes of `uid` that are not zombies (a zombie waits for its parent, not us)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid != uid:
                continue
        except OSError:
            continue
        if alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def remove_account(account: LinuxAccount) -> None:
    subprocess.run(["pkill", "-KILL", "-u", str(account.uid)], check=False)
    wait_for(lambda: not live_pids(account.uid), 30, f"processes of {account.name} to exit")
    subprocess.run(["userdel", "--remove", account.name], capture_output=True, check=False)
    if subprocess.run(["getent", "group", account.name], capture_output=True).returncode == 0:
        subprocess.run(["groupdel", account.name], capture_output=True, check=False)
    shutil.rmtree(f"/run/user/{account.uid}", ignore_errors=True)
