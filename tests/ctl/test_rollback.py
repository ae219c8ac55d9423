"""`oqtoctl user create` undoes what it did when a step fails, names the step, and never
touches what an earlier run (or somebody else) set up."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.ctl.support import PREFIX, Install, remove_account, unique_name

from oqto.control.auth.passwords import hash_password
from oqto.db.models import Role, User
from oqto.osutil.accounts import lookup
from oqto.provisioning import processes, runner


def users_named(install: Install, name: str) -> list[User]:
    engine, maker = install.db()
    try:
        with maker() as session:
            return list(session.scalars(select(User).where(User.username == name)))
    finally:
        engine.dispose()


def fail_runner_start(*_args: object, **_kwargs: object) -> int:
    raise runner.RunnerError("injected: the runner did not come up")


def test_runner_failure_rolls_everything_back(
    install: Install, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = unique_name()
    monkeypatch.setattr(runner, "start_direct", fail_runner_start)
    result = install.create(name)
    assert result.exit_code == 1
    assert "start the runner directly" in result.output and "injected" in result.output
    assert "rolled back" in result.output
    assert lookup(PREFIX + name) is None
    assert not Path(f"/home/{PREFIX}{name}").exists()
    assert users_named(install, name) == []


def test_database_failure_removes_the_new_account(install: Install) -> None:
    """A DB user of that name bound to another account: step 5 fails, steps 1-4 undone."""
    name = unique_name()
    engine, maker = install.db()
    try:
        assert install.ctl("invite", "create").exit_code == 0  # creates + migrates the DB
        with maker.begin() as session:
            session.add(
                User(
                    username=name,
                    password_hash=hash_password("x-password-1"),
                    role=Role.USER,
                    linux_user="someone_else",
                    linux_uid=12345,
                )
            )
    finally:
        engine.dispose()
    result = install.create(name)
    assert result.exit_code == 1
    assert "register the user in the control-plane database" in result.output
    assert "refusing to rebind" in result.output
    account_gone = lookup(PREFIX + name) is None
    assert account_gone
    [row] = users_named(install, name)
    assert row.linux_user == "someone_else"  # untouched


def test_skeleton_failure_rolls_back(install: Install) -> None:
    name = unique_name()
    (install.root / "not-a-dir").write_text("")
    install.write_config(skeleton=install.root / "not-a-dir")
    result = install.create(name)
    assert result.exit_code == 1 and "skeleton" in result.output
    assert lookup(PREFIX + name) is None


def test_rerun_failure_keeps_what_an_earlier_run_built(
    install: Install, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = unique_name()
    assert install.create(name).exit_code == 0
    account = lookup(PREFIX + name)
    assert account is not None
    processes.kill_all(account.uid)  # the runner died; a re-run must start it
    monkeypatch.setattr(runner, "start_direct", fail_runner_start)
    result = install.create(name)
    assert result.exit_code == 1 and "injected" in result.output
    assert lookup(PREFIX + name) == account  # not deleted: this run did not create it
    assert (account.home / ".profile-oqto").exists()
    [row] = users_named(install, name)
    assert row.linux_user == account.name


def test_never_adopts_an_account_oqto_did_not_create(install: Install) -> None:
    """An existing person's account of that name is refused, never used instead."""
    name = unique_name()
    linux = PREFIX + name
    subprocess.run(["useradd", "--no-create-home", linux], check=True)
    try:
        result = install.create(name)
        assert result.exit_code == 1
        assert "create the Linux user" in result.output and "refusing" in result.output
        assert lookup(linux) is not None  # still there, untouched
        assert users_named(install, name) == []
    finally:
        remove_account(linux)
