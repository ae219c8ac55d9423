"""`oqtoctl sandbox show`: a real Linux account with real policy files in its home and
workspace, read by oqtoctl as root."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.ctl.support import PREFIX, Install, unique_name

from oqto.config import load_config
from oqto.db.models import Role, User
from oqto.osutil.accounts import LinuxAccount, create_account
from oqto.provisioning.database import open_sessionmaker


@dataclass
class Person:
    name: str
    account: LinuxAccount

    @property
    def workspace(self) -> Path:
        return self.account.home / "oqto" / "workspaces" / self.name / "proj"

    def write(self, path: Path, text: str) -> None:
        """As the user would: every level theirs."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        for level in [path, *path.parents]:
            if level == self.account.home:
                break
            os.chown(level, self.account.uid, self.account.gid)


def add_user(install: Install, name: str, account: LinuxAccount | None) -> None:
    engine, maker = open_sessionmaker(load_config(install.config).config)
    try:
        with maker.begin() as session:
            session.add(
                User(
                    username=name,
                    password_hash="unused",
                    role=Role.USER,
                    linux_user=account.name if account else None,
                    linux_uid=account.uid if account else None,
                )
            )
    finally:
        engine.dispose()


@pytest.fixture
def person(install: Install) -> Person:
    name = unique_name()
    install.created.append(PREFIX + name)
    homes = install.root / "homes"
    homes.mkdir(exist_ok=True)
    account = create_account(PREFIX + name, home_base=homes)
    admin = install.root / "sandbox.toml"
    admin.write_text(
        'profile = "team"\n[profiles.team]\nextends = "development"\n'
        'allow_hosts = ["llm.example:443", "other.example:443"]\n'
    )
    install.write_config(extra=f'[sandbox]\nconfig = "{admin}"\n')
    add_user(install, name, account)
    return Person(name, account)


def show(install: Install, person: Person, *extra: str) -> Any:
    return install.ctl("sandbox", "show", "--user", person.name, "--workspace", "proj", *extra)


def test_show_lists_the_effective_policy_and_where_each_rule_came_from(
    install: Install, person: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = person.account.home
    person.write(home / ".config" / "oqto" / "sandbox.toml", 'network = "none"\n')
    person.write(
        person.workspace / ".oqto" / "sandbox.toml",
        'deny_read = ["~/private"]\nallow_hosts = ["llm.example:443"]\n'
        '[limits]\nmemory_max = "1G"\n',
    )
    result = show(install, person, "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    policy = shown["policy"]
    assert (shown["linux_user"], shown["home"]) == (person.account.name, str(home))
    assert shown["workspace"] == str(person.workspace)
    assert policy["profile"] == "team" and policy["network"] == "none"
    assert policy["allow_hosts"] == ["llm.example:443"]
    assert policy["limits"]["memory_max"] == 1 << 30
    assert str(home / ".ssh") in policy["deny_read"]
    assert str(person.workspace / ".oqto") in policy["deny_write"]
    sources = {(s["rule"], str(s["value"])): s["source"] for s in shown["sources"]}
    workspace_file = str(person.workspace / ".oqto" / "sandbox.toml")
    assert sources["network", "none"] == "~/.config/oqto/sandbox.toml"
    assert sources["deny_read", str(home / "private")] == workspace_file
    assert sources["limits.memory_max", str(1 << 30)] == workspace_file
    assert sources["deny_read", str(home / ".ssh")] == "built-in profile development"
    assert (
        sources["allow_hosts", "llm.example:443"] == f"{install.root}/sandbox.toml [profiles.team]"
    )
    assert sources["deny_write", str(install.root / "sandbox.toml")] == "always"

    monkeypatch.setenv("COLUMNS", "400")  # one table row per line
    table = show(install, person)
    assert table.exit_code == 0, table.output
    rows = [line.split("│")[1:4] for line in table.output.splitlines() if line.count("│") == 4]
    cells = {(rule.strip(), value.strip()): source.strip() for rule, value, source in rows}
    assert cells["network", "none"] == "~/.config/oqto/sandbox.toml"
    assert cells["deny_read", "~/.ssh"] == "built-in profile development"
    assert cells["limits.memory_max", "1G"] == workspace_file
    assert cells["limits.cpu_weight", "no limit"] == "default"
    assert "Traceback" not in table.output


def test_show_refuses_in_one_line(install: Install, person: Person) -> None:
    overlay = person.workspace / ".oqto" / "sandbox.toml"
    person.write(overlay, "enabled = false\n")
    result = show(install, person)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: sandbox refused: {overlay}: enabled: ")

    overlay.unlink()
    overlay.symlink_to("/etc/shadow")
    result = show(install, person)
    assert result.exit_code == 1
    assert result.output.strip() == f"error: sandbox refused: {overlay}: is a symlink"


def test_show_refuses_an_unknown_user_and_a_bad_workspace(install: Install, person: Person) -> None:
    unknown = install.ctl("sandbox", "show", "--user", "nobody-here", "--workspace", "proj")
    assert unknown.exit_code == 1 and unknown.output.strip() == "error: no user 'nobody-here'"
    escape = install.ctl("sandbox", "show", "--user", person.name, "--workspace", "../x")
    assert escape.exit_code == 1 and escape.output.startswith("error: --workspace: ")
    assert "Traceback" not in unknown.output + escape.output


def test_single_user_mode_uses_the_servers_own_account(install: Install) -> None:
    name = unique_name()
    install.created.append(PREFIX + name)
    server = create_account(PREFIX + name, home_base=install.root)
    os.chown(install.data, server.uid, server.gid)
    install.write_config(extra="[local]\nsingle_user = true\n")
    add_user(install, "admin", None)
    result = install.ctl("sandbox", "show", "--user", "admin", "--workspace", "w", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert (shown["linux_user"], shown["home"]) == (server.name, str(server.home))
    assert shown["workspace"] == str(server.home / "oqto" / "workspaces" / "admin" / "w")
    assert shown["policy"]["profile"] == "development"
