from __future__ import annotations

import grp
import os
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.unit.osutil.osutil_support import AsUser

from oqto.osutil import accounts
from oqto.osutil.accounts import (
    PLATFORM_USER_COMMENT,
    AccountError,
    LinuxAccount,
    create_account,
    create_service_account,
    delete_account,
    lookup,
    lookup_uid,
)

NewName = Callable[[], str]


@pytest.mark.parametrize("name", ["alice", "_svc", "a", "u-1_x", "a" * 32])
def test_valid_names(name: str) -> None:
    accounts.validate_name(name)


@pytest.mark.parametrize(
    "name", ["", "Alice", "1abc", "-rf", "a" * 33, "alice\n", "al ice", "al:ice", "ali.ce"]
)
def test_invalid_names_are_refused_before_anything_runs(name: str) -> None:
    with pytest.raises(AccountError, match="invalid account name"):
        create_account(name)
    with pytest.raises(AccountError, match="invalid account name"):
        delete_account(name, remove_home=True)


def test_lookup() -> None:
    root = lookup("root")
    assert root is not None
    assert (root.uid, root.gid, root.home) == (0, 0, Path("/root"))
    assert lookup_uid(0) == root
    assert lookup("oqtotest_does_not_exist") is None
    assert lookup_uid(4_000_000_000) is None


def test_refuses_to_adopt_system_account() -> None:
    # No root needed: the existing account is rejected before useradd would run.
    with pytest.raises(AccountError, match=r"uid 1, outside \[2000, 60000\]"):
        create_account("daemon")


def test_refuses_to_delete_system_account() -> None:
    with pytest.raises(AccountError, match="system account"):
        delete_account("daemon", remove_home=True)
    assert lookup("daemon") is not None


def test_delete_absent_is_a_noop() -> None:
    delete_account("oqtotest_does_not_exist", remove_home=True)


@pytest.mark.parametrize("comment", ["", "a:b", "two\nlines"])
def test_refuses_bad_comment(comment: str) -> None:
    with pytest.raises(AccountError, match="invalid account comment"):
        create_account("oqtotest_x", comment=comment)


root_only = pytest.mark.usefixtures("needs_root")


@root_only
def test_create_lookup_and_idempotent_create(account_names: NewName) -> None:
    name = account_names()
    account = create_account(name)

    assert account == lookup(name) == lookup_uid(account.uid)
    assert 2000 <= account.uid <= 60000
    assert grp.getgrgid(account.gid).gr_name == name  # user-private group
    assert account.home == Path("/home") / name
    assert account.shell == "/bin/bash"
    assert account.gecos == PLATFORM_USER_COMMENT
    st = os.stat(account.home)
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (account.uid, account.gid, 0o700)

    assert create_account(name) == account


@root_only
def test_custom_range_home_base_and_shell(account_names: NewName, public_dir: Path) -> None:
    name = account_names()
    account = create_account(
        name, uid_min=3100, uid_max=3200, home_base=public_dir, shell="/bin/sh"
    )
    assert 3100 <= account.uid <= 3200
    assert account.home == public_dir / name
    assert account.home.is_dir()
    assert account.shell == "/bin/sh"

    # Idempotence checks the caller's range, too.
    assert create_account(name, home_base=public_dir) == account
    with pytest.raises(AccountError, match="outside"):
        create_account(name, uid_min=4000, uid_max=5000)
    delete_account(name, remove_home=True)
    assert not account.home.exists()


def _useradd_without_marker(name: str) -> LinuxAccount:
    subprocess.run(
        ["useradd", "--key", "UID_MIN=2000", "--comment", "Somebody Else", "--user-group", name],
        check=True,
    )
    account = lookup(name)
    assert account is not None
    return account


@root_only
def test_refuses_foreign_account_in_our_range(account_names: NewName) -> None:
    name = account_names()
    foreign = _useradd_without_marker(name)
    assert foreign.uid >= 2000  # only the missing marker can be the reason

    with pytest.raises(AccountError, match="lacks the marker"):
        create_account(name)
    with pytest.raises(AccountError, match="lacks the marker"):
        delete_account(name, remove_home=True)
    assert lookup(name) == foreign


@root_only
def test_delete_removes_account_group_and_home(account_names: NewName) -> None:
    name = account_names()
    account = create_account(name)

    delete_account(name, remove_home=True)

    assert lookup(name) is None
    assert not account.home.exists()
    with pytest.raises(KeyError):
        grp.getgrnam(name)
    delete_account(name, remove_home=True)  # idempotent


@root_only
def test_delete_can_keep_home(account_names: NewName) -> None:
    name = account_names()
    account = create_account(name)
    delete_account(name, remove_home=False)
    assert lookup(name) is None
    assert account.home.is_dir()  # the fixture removes it


@root_only
def test_delete_kills_nothing_and_reports_userdel_refusal(
    account_names: NewName, as_user: AsUser
) -> None:
    name = account_names()
    account = create_account(name)
    child = as_user.popen(account, "import sys; sys.stdin.read()")
    try:
        with pytest.raises(AccountError, match="userdel failed"):
            delete_account(name, remove_home=True)
        assert child.poll() is None  # still running
        assert lookup(name) == account
    finally:
        child.kill()
        child.communicate(timeout=30)
    delete_account(name, remove_home=True)
    assert lookup(name) is None


@root_only
def test_service_account(account_names: NewName) -> None:
    name = account_names()
    service = create_service_account(name)

    assert 100 <= service.uid <= 999
    assert service.home == Path("/nonexistent")
    assert not service.home.exists()
    assert service.shell.endswith(("nologin", "false"))
    assert service.gecos == accounts.SERVICE_ACCOUNT_COMMENT
    assert grp.getgrgid(service.gid).gr_name == name
    assert create_service_account(name) == service
    # Platform-user deletion never touches system accounts, ours included.
    with pytest.raises(AccountError, match="system account"):
        delete_account(name, remove_home=False)


@root_only
def test_service_account_refuses_foreign_or_regular_accounts(account_names: NewName) -> None:
    name = account_names()
    create_account(name)
    with pytest.raises(AccountError, match="outside"):
        create_service_account(name)
    with pytest.raises(AccountError, match="outside"):
        create_service_account("root")


@root_only
def test_system_platform_account_uses_the_given_range(account_names: NewName) -> None:
    name = account_names()
    account = create_account(name, system=True, uid_min=900, uid_max=950)
    assert 900 <= account.uid <= 950
    assert account.home.is_dir()  # the fixture removes account and home
