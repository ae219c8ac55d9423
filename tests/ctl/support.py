"""A throw-away Oqto installation for oqtoctl tests: a config, a data directory owned by a
test service account, a skeleton, and helpers to run oqtoctl and clean up accounts.

Everything Linux-side uses the test prefix `oqtotest_`; every account a test creates is
removed afterwards, with its processes, home and /run/user directory."""

from __future__ import annotations

import secrets
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from oqto.ctl.app import app
from oqto.db.engine import make_engine, make_sessionmaker, sqlite_url
from oqto.osutil.accounts import LinuxAccount, lookup
from oqto.provisioning import processes

PREFIX = "oqtotest_"
PASSWORD = "ctl-test-pass-1"


def unique_name() -> str:
    """A platform user name; its Linux account is PREFIX + name."""
    return "c" + secrets.token_hex(3)


def remove_account(name: str) -> None:
    account = lookup(name)
    if account is None:
        return
    processes.kill_all(account.uid)
    subprocess.run(["userdel", "--remove", name], capture_output=True, check=False)
    if subprocess.run(["getent", "group", name], capture_output=True).returncode == 0:
        subprocess.run(["groupdel", name], capture_output=True, check=False)
    shutil.rmtree(f"/run/user/{account.uid}", ignore_errors=True)


@dataclass
class Install:
    root: Path
    service: LinuxAccount
    created: list[str] = field(default_factory=list)

    @property
    def config(self) -> Path:
        return self.root / "config.toml"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def skeleton(self) -> Path:
        return self.root / "skel"

    @property
    def logs(self) -> Path:
        return self.root / "runner-logs"

    def write_config(self, extra: str = "", skeleton: Path | None = None) -> None:
        self.config.write_text(
            f"""
[server]
data_dir = "{self.data}"

[runner]
service_user = "{self.service.name}"

[provisioning]
linux_user_prefix = "{PREFIX}"
skeleton = "{skeleton or self.skeleton}"
runner_log_dir = "{self.logs}"
runner_start_timeout_seconds = 60
{extra}
"""
        )
        self.config.chmod(0o644)

    def ctl(self, *args: str, stdin: str | None = None) -> Result:
        """Run oqtoctl in-process (so tests can monkeypatch a step to fail)."""
        return CliRunner().invoke(
            app, ["--config", str(self.config), *args], input=stdin, catch_exceptions=False
        )

    def create(self, name: str, *extra: str) -> Result:
        self.created.append(PREFIX + name)
        return self.ctl(
            "user",
            "create",
            name,
            "--email",
            f"{name}@example.com",
            "--password-stdin",
            *extra,
            stdin=PASSWORD + "\n",
        )

    def db(self) -> Any:
        engine = make_engine(sqlite_url(self.data / "oqto.db"))
        return engine, make_sessionmaker(engine)

    def cleanup(self) -> None:
        for name in self.created:
            remove_account(name)
