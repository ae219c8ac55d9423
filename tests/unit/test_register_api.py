"""`POST /api/auth/register` as a stranger probing for names, in-process and without the
usermgr helper (every refusal here comes before the helper would be asked)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from oqto.config import load_config
from oqto.control.app import build_context, create_app
from oqto.control.auth.passwords import hash_password
from oqto.control.context import ControlContext
from oqto.control.invites import create_invite
from oqto.db.models import Invite, Role, User
from oqto.osutil.accounts import lookup

PASSWORD = "register-pass-1"
GENERIC = {"error": "registration_failed", "message": "invite code invalid or name not available"}


def make(tmp_path: Path, single_user: bool = False, prefix: str = "oqto_") -> FastAPI:
    config = tmp_path / "c.toml"
    config.write_text(
        f'[server]\ndata_dir = "{tmp_path}/data"\n'
        f'[local]\nsocket_dir = "{tmp_path}/run"\n'
        f'runner_socket_pattern = "{tmp_path}/runner-{{uid}}.sock"\n'
        f'[provisioning]\nlinux_user_prefix = "{prefix}"\n'
        f'usermgr_socket = "{tmp_path}/no-usermgr.sock"\n'
    )
    ctx, backend = build_context(load_config(config, environ={}).config, single_user=single_user)
    with ctx.db.begin() as db:
        db.add(User(username="taken", password_hash=hash_password("x-pass-123"), role=Role.USER))
    return create_app(ctx, backend)


def ctx_of(app: FastAPI) -> ControlContext:
    ctx = app.state.ctx
    assert isinstance(ctx, ControlContext)
    return ctx


def invite(app: FastAPI, uses: int = 10) -> str:
    with ctx_of(app).db.begin() as db:
        code, _row = create_invite(db, created_by=None, max_uses=uses)
    return code


def uses(app: FastAPI) -> list[int]:
    with ctx_of(app).db() as db:
        return [row.uses for row in db.scalars(select(Invite))]


def register(
    client: TestClient, name: str, code: str, password: str = PASSWORD
) -> tuple[int, dict[str, str]]:
    response = client.post(
        "/api/auth/register", json={"username": name, "password": password, "invite_code": code}
    )
    return response.status_code, response.json()


def test_a_bad_invite_or_a_taken_name_get_one_answer(tmp_path: Path) -> None:
    """The finding: 409 `user_exists` came before the invite was checked, so anyone could
    list the users without an invite."""
    app = make(tmp_path)
    client = TestClient(app)
    code = invite(app)
    assert register(client, "taken", "inv_wrong") == (400, GENERIC)
    assert register(client, "free", "inv_wrong") == (400, GENERIC)
    assert register(client, "taken", code) == (400, GENERIC)
    assert uses(app) == [0]


def test_an_existing_linux_account_gets_the_same_answer(tmp_path: Path) -> None:
    """The finding: registration also said which Linux accounts exist."""
    assert lookup("daemon") is not None
    app = make(tmp_path, prefix="")
    client = TestClient(app)
    # The helper is not running: asking it would be a 503. The account is checked first.
    assert register(client, "daemon", invite(app)) == (400, GENERIC)
    assert uses(app) == [0]


def test_probing_names_is_throttled(tmp_path: Path) -> None:
    app = make(tmp_path)
    client = TestClient(app)
    code = invite(app)
    statuses = [register(client, "taken", code)[0] for _ in range(7)]
    assert statuses[:5] == [400] * 5 and statuses[5:] == [429, 429]
    # Bad codes count against the same budget.
    assert register(client, "free", "inv_wrong")[0] == 429


def test_a_name_too_long_for_its_linux_account_is_a_clear_400(tmp_path: Path) -> None:
    """The finding: a 32-character name gave a 500 (prefix + name is over Linux's 32)."""
    app = make(tmp_path)
    client = TestClient(app)
    status, body = register(client, "a" * 28, invite(app))
    assert status == 400 and body["error"] == "invalid_username"
    assert "at most 27 characters" in body["message"]
    assert register(client, "b" * 33, invite(app))[0] == 422
    schema = app.openapi()["components"]["schemas"]["RegisterIn"]["properties"]["username"]
    assert schema["maxLength"] == 32 and "27" in schema["description"]


@pytest.mark.parametrize("name", ["newbie", "taken"])
def test_single_user_mode_refuses_registration(tmp_path: Path, name: str) -> None:
    app = make(tmp_path, single_user=True)
    client = TestClient(app)
    status, body = register(client, name, invite(app))
    assert status == 409 and body["error"] == "single_user"
    assert "--single-user" in body["message"]
    with ctx_of(app).db() as db:
        assert db.scalar(select(User.id).where(User.username == "newbie")) is None
    assert uses(app) == [0]
