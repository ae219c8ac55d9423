"""`POST /api/auth/register`: invite codes and a Linux account made by the usermgr helper;
all or nothing. (Single-user mode refuses registration; the refusals that come before the
helper is asked are tested in tests/unit/test_register_api.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.ctl.support import PREFIX, Install, unique_name
from tests.ctl.usermgr_support import running_server

from oqto.config import load_config
from oqto.control.api import register
from oqto.control.app import build_context, create_app
from oqto.control.auth.passwords import hash_password
from oqto.control.context import ControlContext
from oqto.control.invites import create_invite
from oqto.db.models import Invite, Role, User
from oqto.osutil.accounts import lookup
from oqto.provisioning import runner

PASSWORD = "register-pass-1"


def app_for(install: Install, single_user: bool) -> tuple[TestClient, ControlContext]:
    sock = install.root / "usermgr" / "usermgr.sock"
    install.write_config(extra=f'usermgr_socket = "{sock}"\n')
    config = load_config(install.config, environ={}).config
    ctx, backend = build_context(config, single_user=single_user)
    return TestClient(create_app(ctx, backend)), ctx


def invite(ctx: ControlContext, uses: int = 1, role: Role = Role.USER) -> str:
    with ctx.db.begin() as db:
        code, _row = create_invite(db, created_by=None, max_uses=uses, role=role)
    return code


def uses(ctx: ControlContext) -> list[int]:
    with ctx.db() as db:
        return [row.uses for row in db.scalars(select(Invite).order_by(Invite.created_at))]


def body(name: str, code: str, password: str = PASSWORD) -> dict[str, str]:
    return {"username": name, "password": password, "invite_code": code}


@pytest.fixture
def multi(install: Install) -> Iterator[tuple[TestClient, ControlContext, Install]]:
    client, ctx = app_for(install, single_user=False)
    with client:
        yield client, ctx, install


def test_multi_user_mode_provisions_through_usermgr(
    multi: tuple[TestClient, ControlContext, Install],
) -> None:
    client, ctx, install = multi
    name = unique_name()
    install.created.append(PREFIX + name)
    code = invite(ctx)
    sock = install.root / "usermgr" / "usermgr.sock"
    # The control plane runs as root in this test, so the helper serves root here.
    with running_server(install.config, sock, 0, install.service.gid):
        response = client.post("/api/auth/register", json=body(name, code))
    assert response.status_code == 201, response.text
    account = lookup(PREFIX + name)
    assert account is not None
    with ctx.db() as db:
        row = db.scalar(select(User).where(User.username == name))
        assert row is not None and (row.linux_user, row.linux_uid) == (account.name, account.uid)
    assert runner.ping(Path(f"/run/user/{account.uid}/oqto-runner.sock"), account.uid)
    assert uses(ctx) == [1]
    login = client.post("/api/auth/login", json={"username": name, "password": PASSWORD})
    assert login.status_code == 200
    # The code is used up now; the answer does not say so.
    again = client.post("/api/auth/register", json=body(unique_name(), code))
    assert again.status_code == 400 and again.json()["error"] == "registration_failed"


def test_refusals_consume_nothing(multi: tuple[TestClient, ControlContext, Install]) -> None:
    client, ctx, _install = multi
    code = invite(ctx, uses=5)
    with ctx.db.begin() as db:
        db.add(User(username="taken", password_hash=hash_password("x-pass-123"), role=Role.USER))
    taken = client.post("/api/auth/register", json=body("taken", code))
    assert taken.status_code == 400 and taken.json()["error"] == "registration_failed"
    weak = client.post("/api/auth/register", json=body("weakling", code, "short"))
    assert weak.status_code == 422 and weak.json()["error"] == "invalid_request"
    assert client.post("/api/auth/register", json=body("Bad Name", code)).status_code == 422
    assert uses(ctx) == [0]


def test_the_service_accounts_name_is_not_revealed(
    multi: tuple[TestClient, ControlContext, Install],
) -> None:
    """An existing Linux account (here the service account, `<prefix>svc...`) gets the
    same answer as a bad invite, and the helper is never asked."""
    client, ctx, install = multi
    name = install.service.name.removeprefix(PREFIX)
    response = client.post("/api/auth/register", json=body(name, invite(ctx)))
    assert response.status_code == 400 and response.json()["error"] == "registration_failed"
    assert uses(ctx) == [0]


def test_a_32_character_name_is_a_400_not_a_500(
    multi: tuple[TestClient, ControlContext, Install],
) -> None:
    """The helper is running: before, it was asked and its refusal became a 500."""
    client, ctx, install = multi
    sock = install.root / "usermgr" / "usermgr.sock"
    with running_server(install.config, sock, 0, install.service.gid):
        response = client.post("/api/auth/register", json=body("n" * 32, invite(ctx)))
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_username"
    assert f"at most {32 - len(PREFIX)} characters" in response.json()["message"]
    assert uses(ctx) == [0]


def test_usermgr_down_means_503_and_nothing_created(
    multi: tuple[TestClient, ControlContext, Install],
) -> None:
    client, ctx, _install = multi
    name = unique_name()
    response = client.post("/api/auth/register", json=body(name, invite(ctx)))
    assert response.status_code == 503 and "usermgr" in response.json()["message"]
    assert lookup(PREFIX + name) is None
    with ctx.db() as db:
        assert db.scalar(select(User).where(User.username == name)) is None
    assert uses(ctx) == [0]


def test_database_failure_rolls_the_account_back(
    multi: tuple[TestClient, ControlContext, Install], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Somebody takes the name while the account is being made: the account goes again."""
    client, ctx, install = multi
    name = unique_name()
    install.created.append(PREFIX + name)
    code = invite(ctx)
    real_precheck = register._precheck

    def precheck_then_race(c: ControlContext, b: register.RegisterIn) -> None:
        real_precheck(c, b)
        with c.db.begin() as db:
            db.add(User(username=name, password_hash=hash_password("x-pass-123"), role=Role.USER))

    monkeypatch.setattr(register, "_precheck", precheck_then_race)
    sock = install.root / "usermgr" / "usermgr.sock"
    with running_server(install.config, sock, 0, install.service.gid):
        response = client.post("/api/auth/register", json=body(name, code))
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "registration_failed"
    assert lookup(PREFIX + name) is None
    assert uses(ctx) == [0]
