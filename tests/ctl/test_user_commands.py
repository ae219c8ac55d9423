"""`oqtoctl user ...` end to end on this host (no systemd here: the runner is started
directly as the user, which oqtoctl says)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

from sqlalchemy import select
from tests.ctl.support import PASSWORD, PREFIX, Install, unique_name

from oqto.control.auth.passwords import verify_password
from oqto.control.auth.tokens import issue_token, resolve_token
from oqto.db.models import AuthToken, Role, TokenKind, User
from oqto.osutil.accounts import PLATFORM_USER_COMMENT, lookup
from oqto.provisioning import processes, runner


def db_user(install: Install, name: str) -> User | None:
    engine, maker = install.db()
    try:
        with maker() as session:
            return session.scalar(select(User).where(User.username == name))
    finally:
        engine.dispose()


def test_create_runs_every_step_and_the_runner_answers(install: Install) -> None:
    name = unique_name()
    result = install.create(name)
    assert result.exit_code == 0, result.output
    assert "No systemd on this host" in result.output
    for step in (
        "create the Linux user",
        "set up the home directory",
        "/run/user/UID",
        "start the runner directly",
        "register the user",
        "check that the runner answers",
    ):
        assert step in result.output
    account = lookup(PREFIX + name)
    assert account is not None
    assert account.gecos.startswith(PLATFORM_USER_COMMENT)
    assert 2000 <= account.uid <= 60000
    assert account.shell == "/bin/bash"
    assert (account.home / ".profile-oqto").read_text() == "# from the skeleton\n"
    assert (account.home / ".profile-oqto").stat().st_uid == account.uid
    assert stat.S_IMODE(account.home.stat().st_mode) == 0o700
    assert install.service.gid not in os.getgrouplist(account.name, account.gid)
    run_dir = Path(f"/run/user/{account.uid}")
    assert run_dir.stat().st_uid == account.uid
    pong = runner.ping(run_dir / "oqto-runner.sock", account.uid)
    assert pong.uid == account.uid
    row = db_user(install, name)
    assert row is not None
    assert (row.linux_user, row.linux_uid, row.email) == (
        account.name,
        account.uid,
        f"{name}@example.com",
    )
    assert row.role is Role.USER
    assert verify_password(row.password_hash, PASSWORD)
    # The data dir belongs to the service account, and so does the database root made.
    assert (install.data / "oqto.db").stat().st_uid == install.service.uid


def test_create_is_idempotent_and_json(install: Install) -> None:
    name = unique_name()
    assert install.create(name).exit_code == 0
    pids = processes.runner_pids(lookup(PREFIX + name).uid)  # type: ignore[union-attr]
    again = install.ctl("user", "create", name, "--email", f"{name}@example.com", "--json")
    assert again.exit_code == 0, again.output
    data = json.loads(again.stdout)
    assert data["created"] is False and data["linux_user"] == PREFIX + name
    assert data["password"] is None
    assert "already done" in again.stderr
    # The runner that answered was left alone.
    assert processes.runner_pids(lookup(PREFIX + name).uid) == pids  # type: ignore[union-attr]


def test_create_generates_a_password_when_none_is_given(install: Install) -> None:
    name = unique_name()
    install.created.append(PREFIX + name)
    result = install.ctl("user", "create", name, "--email", "x@example.com", "--json")
    assert result.exit_code == 0, result.output
    password = json.loads(result.stdout)["password"]
    row = db_user(install, name)
    assert row is not None and verify_password(row.password_hash, password)


def test_create_with_linux_user_and_admin_role(install: Install) -> None:
    name = unique_name()
    linux = f"{PREFIX}x{name}"
    install.created.append(linux)
    result = install.create(name, "--linux-user", linux, "--role", "admin")
    assert result.exit_code == 0, result.output
    row = db_user(install, name)
    assert row is not None and row.linux_user == linux and row.role is Role.ADMIN
    # A re-run without --linux-user keeps that account (and makes no other).
    again = install.ctl("user", "create", name, "--email", "a@example.com", "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["linux_user"] == linux
    assert lookup(PREFIX + name) is None


def test_create_refuses_bad_input(install: Install) -> None:
    assert install.ctl("user", "create", "Bad Name", "--email", "a@b.c").exit_code == 1
    bad_mail = install.ctl("user", "create", unique_name(), "--email", "nope")
    assert bad_mail.exit_code == 1 and "e-mail" in bad_mail.output
    long_name = "a" * 30  # prefix + 30 characters is longer than Linux allows
    result = install.ctl("user", "create", long_name, "--email", "a@b.c")
    assert result.exit_code == 1 and "--linux-user" in result.output


def test_list_and_show(install: Install) -> None:
    name = unique_name()
    assert install.create(name).exit_code == 0
    listed = install.ctl("user", "list", "--json")
    assert listed.exit_code == 0
    assert name in {u["username"] for u in json.loads(listed.stdout)}
    assert name in install.ctl("user", "list").stdout
    shown = install.ctl("user", "show", name, "--json")
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert data["runner"]["answers"] is True and data["runner"]["systemd"] is None
    assert data["runner"]["pids"]
    human = install.ctl("user", "show", name)
    assert "answers" in human.stdout and PREFIX + name in human.stdout
    missing = install.ctl("user", "show", "nobody-here")
    assert missing.exit_code == 1 and "no user" in missing.output


def test_disable_revokes_logins_and_enable_restores(install: Install) -> None:
    name = unique_name()
    assert install.create(name).exit_code == 0
    engine, maker = install.db()
    try:
        with maker.begin() as session:
            user = session.scalar(select(User).where(User.username == name))
            token, _row = issue_token(session, user, TokenKind.LOGIN, None)
        result = install.ctl("user", "disable", name)
        assert result.exit_code == 0, result.output
        assert "1 login(s) revoked" in result.stdout
        with maker() as session:
            assert resolve_token(session, token) is None
            assert session.scalar(select(User.disabled).where(User.username == name)) is True
        assert install.ctl("user", "enable", name).exit_code == 0
        with maker() as session:
            assert session.scalar(select(User.disabled).where(User.username == name)) is False
            revoked = session.scalars(select(AuthToken.revoked_at)).all()
            assert all(r is not None for r in revoked)
    finally:
        engine.dispose()


def test_passwd(install: Install) -> None:
    name = unique_name()
    assert install.create(name).exit_code == 0
    result = install.ctl("user", "passwd", name, "--password-stdin", stdin="another-pass-2\n")
    assert result.exit_code == 0, result.output
    row = db_user(install, name)
    assert row is not None and verify_password(row.password_hash, "another-pass-2")
    weak = install.ctl("user", "passwd", name, "--password-stdin", stdin="short\n")
    assert weak.exit_code == 1 and "at least" in weak.output


def test_delete_removes_everything(install: Install) -> None:
    name = unique_name()
    assert install.create(name).exit_code == 0
    account = lookup(PREFIX + name)
    assert account is not None
    result = install.ctl("user", "delete", name, "--yes")
    assert result.exit_code == 0, result.output
    assert lookup(PREFIX + name) is None
    assert not account.home.exists()
    assert not Path(f"/run/user/{account.uid}").exists()
    assert processes.pids_of(account.uid) == []
    assert db_user(install, name) is None
    again = install.ctl("user", "delete", name, "--yes")
    assert again.exit_code == 1 and "no user" in again.output


def test_delete_keep_home(install: Install) -> None:
    name = unique_name()
    assert install.create(name).exit_code == 0
    account = lookup(PREFIX + name)
    assert account is not None
    result = install.ctl("user", "delete", name, "--yes", "--keep-home")
    assert result.exit_code == 0, result.output
    assert "Home kept" in result.stdout
    assert lookup(PREFIX + name) is None and account.home.is_dir()
    # A new account of that name must not inherit the old home.
    recreate = install.create(name)
    assert recreate.exit_code == 1 and "already exists" in recreate.output
    assert lookup(PREFIX + name) is None
    shutil.rmtree(account.home)


def test_delete_finishes_a_half_done_delete(install: Install) -> None:
    """The DB user is gone but the account is left (e.g. userdel failed): finish it."""
    name = unique_name()
    assert install.create(name).exit_code == 0
    engine, maker = install.db()
    try:
        with maker.begin() as session:
            session.delete(session.scalar(select(User).where(User.username == name)))
    finally:
        engine.dispose()
    result = install.ctl("user", "delete", name, "--yes", "--linux-user", PREFIX + name)
    assert result.exit_code == 0, result.output
    assert lookup(PREFIX + name) is None


def test_adopt_an_existing_account_only_when_asked(install: Install) -> None:
    """The guide's by-hand per-user setup makes the account first; --adopt binds it, and
    delete leaves that person's account alone."""
    name = unique_name()
    linux = f"{PREFIX}h{name}"
    install.created.append(linux)
    subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", linux], check=True)
    refused = install.create(name, "--linux-user", linux)
    assert refused.exit_code == 1 and "refusing to adopt" in refused.output
    without_name = install.create(name, "--adopt")
    assert without_name.exit_code == 1 and "--adopt needs --linux-user" in without_name.output
    adopted = install.create(name, "--linux-user", linux, "--adopt")
    assert adopted.exit_code == 0, adopted.output
    row = db_user(install, name)
    account = lookup(linux)
    assert row is not None and account is not None and row.linux_uid == account.uid
    deleted = install.ctl("user", "delete", name, "--yes")
    assert deleted.exit_code == 0, deleted.output
    assert "adopted" in deleted.stdout
    assert lookup(linux) == account and account.home.is_dir()
    assert processes.runner_pids(account.uid) == []
    assert db_user(install, name) is None
