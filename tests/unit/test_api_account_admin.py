"""Account (password, API tokens) and admin (users, invites, everyone's sessions) routes,
through the real app in-process."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from oqto.config import load_config
from oqto.control.api.account import MAX_API_TOKENS
from oqto.control.app import build_context, create_app
from oqto.control.auth.deps import Principal
from oqto.control.auth.passwords import hash_password
from oqto.control.auth.tokens import issue_token, resolve_token
from oqto.control.bootstrap import BootstrapError
from oqto.control.context import ControlContext
from oqto.db.models import AuthToken, Invite, Role, Session, SessionStatus, TokenKind, User

ADMIN_PW = "admin-password-1"
USER_PW = "user-password-1"


def make_app(tmp_path: Path, single_user: bool) -> FastAPI:
    config = tmp_path / "c.toml"
    config.write_text(
        f'[server]\ndata_dir = "{tmp_path}/data"\n[local]\nsocket_dir = "{tmp_path}/run"\n'
        f'runner_socket_pattern = "{tmp_path}/runner-{{uid}}.sock"\n'
    )
    ctx, backend = build_context(load_config(config, environ={}).config, single_user=single_user)
    # Two users even in single-user mode (which could not add the second itself): the
    # routes' own rules (ownership, admin role) are what most tests here check.
    with ctx.db.begin() as db:
        db.add(User(username="boss", password_hash=hash_password(ADMIN_PW), role=Role.ADMIN))
        db.add(User(username="alice", password_hash=hash_password(USER_PW), role=Role.USER))
    return create_app(ctx, backend)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[FastAPI]:
    yield make_app(tmp_path, single_user=True)


@pytest.fixture
def multi(tmp_path: Path) -> Iterator[FastAPI]:
    """Multi-user mode, where users and invites can be added (no runner is needed for
    users without a Linux account)."""
    yield make_app(tmp_path, single_user=False)


def ctx_of(app: FastAPI) -> ControlContext:
    ctx = app.state.ctx
    assert isinstance(ctx, ControlContext)
    return ctx


def login(app: FastAPI, username: str, password: str) -> TestClient:
    client = TestClient(app)
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    client.headers["Authorization"] = f"Bearer {response.json()['token']}"
    client.cookies.clear()  # bearer only: no CSRF involved unless a test wants it
    return client


@pytest.fixture
def admin(app: FastAPI) -> TestClient:
    return login(app, "boss", ADMIN_PW)


@pytest.fixture
def alice(app: FastAPI) -> TestClient:
    return login(app, "alice", USER_PW)


def user_id(app: FastAPI, username: str) -> str:
    with ctx_of(app).db() as db:
        user = db.query(User).filter_by(username=username).one()
        return user.id


# -- account -------------------------------------------------------------------------------


def test_change_password_keeps_this_sign_in_and_revokes_the_others(
    app: FastAPI, alice: TestClient
) -> None:
    other_browser = login(app, "alice", USER_PW)
    token = alice.post("/api/account/tokens", json={"name": "script"}).json()["token"]

    wrong = alice.post(
        "/api/account/password", json={"current_password": "nope", "new_password": "x" * 10}
    )
    assert wrong.status_code == 403 and wrong.json()["error"] == "wrong_password"
    weak = alice.post(
        "/api/account/password", json={"current_password": USER_PW, "new_password": "short"}
    )
    # The schema says a new password's rules, so a short one is refused as invalid input.
    assert weak.status_code == 422 and weak.json()["error"] == "invalid_request"
    assert "at least 8 characters" in weak.json()["message"]

    ok = alice.post(
        "/api/account/password", json={"current_password": USER_PW, "new_password": "brand-new-pw"}
    )
    assert ok.status_code == 204
    assert alice.get("/api/auth/me").status_code == 200
    assert other_browser.get("/api/auth/me").status_code == 401
    api = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    assert api.get("/api/auth/me").status_code == 401
    old = TestClient(app).post("/api/auth/login", json={"username": "alice", "password": USER_PW})
    assert old.status_code == 401
    login(app, "alice", "brand-new-pw")


def test_api_tokens_are_shown_once_work_and_can_be_revoked(
    app: FastAPI, alice: TestClient, admin: TestClient
) -> None:
    created = alice.post("/api/account/tokens", json={"name": "ci", "expires_in_days": 30})
    assert created.status_code == 201
    body = created.json()
    token, info = body["token"], body["info"]
    assert token.startswith("oqto_") and info["name"] == "ci" and info["expires_at"]

    listed = alice.get("/api/account/tokens").json()
    assert [t["id"] for t in listed] == [info["id"]]
    assert token not in alice.get("/api/account/tokens").text

    api = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    assert api.get("/api/auth/me").json()["username"] == "alice"
    # Someone else's token id is not found, and login tokens are not API tokens.
    assert admin.delete(f"/api/account/tokens/{info['id']}").status_code == 404
    assert admin.get("/api/account/tokens").json() == []

    assert alice.delete(f"/api/account/tokens/{info['id']}").status_code == 204
    assert api.get("/api/auth/me").status_code == 401
    assert alice.get("/api/account/tokens").json() == []
    assert alice.delete(f"/api/account/tokens/{info['id']}").status_code == 204  # idempotent


def test_cookie_requests_to_account_routes_need_the_csrf_header(app: FastAPI) -> None:
    browser = TestClient(app)
    login_body = browser.post(
        "/api/auth/login", json={"username": "alice", "password": USER_PW}
    ).json()
    refused = browser.post("/api/account/tokens", json={"name": "x"})
    assert refused.status_code == 403 and refused.json()["error"] == "csrf_failed"
    allowed = browser.post(
        "/api/account/tokens",
        json={"name": "x"},
        headers={"X-CSRF-Token": login_body["csrf_token"]},
    )
    assert allowed.status_code == 201


# -- admin: users --------------------------------------------------------------------------


ADMIN_ROUTES = [
    ("GET", "/api/admin/users"),
    ("POST", "/api/admin/users"),
    ("POST", "/api/admin/users/x/disable"),
    ("POST", "/api/admin/users/x/enable"),
    ("POST", "/api/admin/users/x/password"),
    ("DELETE", "/api/admin/users/x"),
    ("GET", "/api/admin/users/x/runner"),
    ("GET", "/api/admin/invites"),
    ("POST", "/api/admin/invites"),
    ("DELETE", "/api/admin/invites/x"),
    ("GET", "/api/admin/sessions"),
    ("POST", "/api/admin/sessions/x/stop"),
]


def test_admin_routes_refuse_non_admins(alice: TestClient) -> None:
    for method, path in ADMIN_ROUTES:
        response = alice.request(method, path, json={})
        assert response.status_code == 403, (method, path)
        assert response.json()["error"] == "forbidden"


def test_create_disable_enable_reset_and_delete_a_user(multi: FastAPI) -> None:
    app = multi
    admin = login(app, "boss", ADMIN_PW)
    created = admin.post(
        "/api/admin/users", json={"username": "bob", "password": "bob-password", "role": "user"}
    )
    assert created.status_code == 201
    bob_id = created.json()["id"]
    assert created.json()["linux_user"] is None
    again = admin.post("/api/admin/users", json={"username": "bob", "password": "bob-password"})
    assert again.status_code == 409
    bob = login(app, "bob", "bob-password")
    with ctx_of(app).db.begin() as db:
        db.add(Session(user_id=bob_id, workspace="w", status=SessionStatus.STOPPED))

    disabled = admin.post(f"/api/admin/users/{bob_id}/disable")
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True
    assert bob.get("/api/auth/me").status_code == 401
    refused = TestClient(app).post(
        "/api/auth/login", json={"username": "bob", "password": "bob-password"}
    )
    assert refused.status_code == 401

    assert admin.post(f"/api/admin/users/{bob_id}/enable").json()["disabled"] is False
    # Enabling does not resurrect the tokens that disabling revoked.
    assert bob.get("/api/auth/me").status_code == 401
    bob = login(app, "bob", "bob-password")

    weak = admin.post(f"/api/admin/users/{bob_id}/password", json={"password": "short"})
    assert weak.status_code == 422 and weak.json()["error"] == "invalid_request"
    assert (
        admin.post(f"/api/admin/users/{bob_id}/password", json={"password": "reset-pw-123"})
    ).status_code == 204
    assert bob.get("/api/auth/me").status_code == 401
    login(app, "bob", "reset-pw-123")

    assert admin.delete(f"/api/admin/users/{bob_id}").status_code == 204
    assert "bob" not in [u["username"] for u in admin.get("/api/admin/users").json()]
    assert admin.get("/api/admin/sessions").json() == []  # their sessions went with them
    assert admin.delete(f"/api/admin/users/{bob_id}").status_code == 404


def test_an_admin_cannot_lock_themselves_out(app: FastAPI, admin: TestClient) -> None:
    me = user_id(app, "boss")
    for response in (
        admin.post(f"/api/admin/users/{me}/disable"),
        admin.delete(f"/api/admin/users/{me}"),
    ):
        assert response.status_code == 403
        assert response.json()["error"] == "own_account"
    assert admin.get("/api/auth/me").status_code == 200


def test_runner_health_in_multi_user_mode_pings_the_runner(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        f'[server]\ndata_dir = "{tmp_path}/data"\n'
        f'[local]\nrunner_socket_pattern = "{tmp_path}/runner-{{uid}}.sock"\n'
    )
    ctx, backend = build_context(load_config(config, environ={}).config, single_user=False)
    with ctx.db.begin() as db:
        db.add(User(username="boss", password_hash=hash_password(ADMIN_PW), role=Role.ADMIN))
        # Provisioned, but its runner is not running (no socket).
        db.add(
            User(username="root", password_hash="x", role=Role.USER, linux_user="root", linux_uid=0)
        )
        db.add(User(username="new", password_hash="x", role=Role.USER))
    app = create_app(ctx, backend)
    admin = login(app, "boss", ADMIN_PW)
    unprovisioned = admin.get(f"/api/admin/users/{user_id(app, 'new')}/runner").json()
    assert unprovisioned["status"] == "unavailable"
    assert "no Linux account" in unprovisioned["detail"]
    down = admin.get(f"/api/admin/users/{user_id(app, 'root')}/runner").json()
    assert down["status"] == "unavailable"
    assert "cannot connect" in down["detail"]


def test_runner_health_in_single_user_mode_is_in_process(app: FastAPI, admin: TestClient) -> None:
    health = admin.get(f"/api/admin/users/{user_id(app, 'alice')}/runner")
    assert health.status_code == 200
    assert health.json()["status"] == "in-process"
    assert admin.get("/api/admin/users/nobody/runner").status_code == 404


# -- admin: invites ------------------------------------------------------------------------


def test_invites_create_list_revoke(multi: FastAPI) -> None:
    admin = login(multi, "boss", ADMIN_PW)
    created = admin.post(
        "/api/admin/invites",
        json={"max_uses": 3, "expires_in_hours": 24, "role": "user", "note": "for carol"},
    )
    assert created.status_code == 201
    code, invite = created.json()["code"], created.json()["invite"]
    assert code.startswith("inv_") and code.startswith(invite["prefix"])
    assert invite["max_uses"] == 3 and invite["uses"] == 0 and invite["expires_at"]

    never = admin.post("/api/admin/invites", json={"expires_in_hours": None})
    assert never.status_code == 201 and never.json()["invite"]["expires_at"] is None

    listing = admin.get("/api/admin/invites")
    assert {i["id"] for i in listing.json()} == {invite["id"], never.json()["invite"]["id"]}
    assert code not in listing.text  # only the prefix is kept

    assert admin.delete(f"/api/admin/invites/{invite['id']}").status_code == 204
    revoked = next(i for i in admin.get("/api/admin/invites").json() if i["id"] == invite["id"])
    assert revoked["revoked_at"] is not None
    assert admin.delete("/api/admin/invites/nope").status_code == 404
    bad = admin.post("/api/admin/invites", json={"max_uses": 0})
    assert bad.status_code == 422


# -- admin: everyone's sessions ------------------------------------------------------------


def test_all_sessions_and_force_stop(app: FastAPI, admin: TestClient, alice: TestClient) -> None:
    alice_id = user_id(app, "alice")
    with ctx_of(app).db.begin() as db:
        row = Session(user_id=alice_id, workspace="proj", status=SessionStatus.RUNNING)
        db.add(row)
        db.flush()
        session_id = row.id
    listing = admin.get("/api/admin/sessions").json()
    assert [(s["username"], s["workspace"], s["status"]) for s in listing] == [
        ("alice", "proj", "running")
    ]
    # Alice's own view is unaffected; admins act through the admin route.
    assert admin.post(f"/api/sessions/{session_id}/stop").status_code == 404
    stopped = admin.post(f"/api/admin/sessions/{session_id}/stop")
    assert stopped.status_code == 200
    assert stopped.json()["status"] == "stopped" and stopped.json()["username"] == "alice"
    assert alice.get(f"/api/sessions/{session_id}").json()["status"] == "stopped"
    assert admin.post("/api/admin/sessions/nope/stop").status_code == 404


# -- single-user mode has exactly one platform user -----------------------------------------


def test_single_user_mode_refuses_new_users_and_invites(app: FastAPI, admin: TestClient) -> None:
    """The finding: single-user mode accepted other platform users, who then ran as the
    server's own account."""
    with ctx_of(app).db() as db:
        before = db.scalar(select(func.count()).select_from(User))
    for path, body in (
        ("/api/admin/users", {"username": "mallory", "password": "mallory-pw-1"}),
        ("/api/admin/invites", {"max_uses": 1}),
    ):
        response = admin.post(path, json=body)
        assert response.status_code == 409, (path, response.text)
        assert response.json()["error"] == "single_user"
        assert "[local] single_user" in response.json()["message"]
        assert "server's own Linux account" in response.json()["message"]
    with ctx_of(app).db() as db:
        assert db.scalar(select(func.count()).select_from(User)) == before
        assert db.scalar(select(func.count()).select_from(Invite)) == 0


def test_single_user_mode_refuses_to_start_with_more_than_one_user(tmp_path: Path) -> None:
    """A database left from multi-user mode must not bring its users along."""
    make_app(tmp_path, single_user=False)  # boss and alice
    config = load_config(tmp_path / "c.toml", environ={}).config
    with pytest.raises(BootstrapError, match=r"2 enabled users \(alice, boss\)"):
        build_context(config, single_user=True)
    ctx, _backend = build_context(config, single_user=False)
    with ctx.db.begin() as db:
        db.execute(update(User).where(User.username == "alice").values(disabled=True))
    build_context(config, single_user=True)  # one enabled user: fine


# -- the API token cap holds under concurrency --------------------------------------------


def test_the_api_token_cap_holds_under_concurrent_creates(app: FastAPI) -> None:
    """The finding: concurrent creates took the cap of 50 to 61."""
    alice_id = user_id(app, "alice")
    with ctx_of(app).db.begin() as db:
        alice_row = db.get(User, alice_id)
        assert alice_row is not None
        for i in range(MAX_API_TOKENS - 10):
            issue_token(db, alice_row, TokenKind.API, None, name=f"old{i}")
        # Expired and revoked tokens do not count.
        issue_token(db, alice_row, TokenKind.API, dt.timedelta(seconds=-1), name="expired")
    token = login(app, "alice", USER_PW).headers["Authorization"]

    async def burst() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers={"Authorization": token}
        ) as client:
            responses = await asyncio.gather(
                *(client.post("/api/account/tokens", json={"name": f"n{i}"}) for i in range(40))
            )
        return [r.status_code for r in responses]

    statuses = asyncio.run(burst())
    assert statuses.count(201) == 10, statuses
    assert statuses.count(409) == 30, statuses
    with ctx_of(app).db() as db:
        live = db.scalar(
            select(func.count())
            .select_from(AuthToken)
            .where(
                AuthToken.user_id == alice_id,
                AuthToken.kind == TokenKind.API,
                AuthToken.revoked_at.is_(None),
                AuthToken.name != "expired",
            )
        )
    assert live == MAX_API_TOKENS


# -- disable ends everything; delete leaves Linux accounts to oqtoctl ---------------------


def test_disabling_a_user_stops_their_sessions_and_ends_their_connections(
    app: FastAPI, admin: TestClient
) -> None:
    """The finding: a disabled user's sessions kept running."""
    ctx = ctx_of(app)
    alice_id = user_id(app, "alice")
    with ctx.db.begin() as db:
        row = Session(user_id=alice_id, workspace="w", status=SessionStatus.RUNNING)
        db.add(row)
        db.flush()
        session_id = row.id
    token = login(app, "alice", USER_PW).headers["Authorization"].removeprefix("Bearer ")
    with ctx.db() as db:
        resolved = resolve_token(db, token)
    assert resolved is not None
    ended = threading.Event()
    ctx.live.track(Principal(*resolved, via_cookie=False), ended.set)

    assert admin.post(f"/api/admin/users/{alice_id}/disable").status_code == 200
    assert ended.wait(5)
    with ctx.db() as db:
        stopped = db.get(Session, session_id)
        assert stopped is not None and stopped.status is SessionStatus.STOPPED


def test_deleting_a_user_with_a_linux_account_points_to_oqtoctl(multi: FastAPI) -> None:
    admin = login(multi, "boss", ADMIN_PW)
    with ctx_of(multi).db.begin() as db:
        db.add(
            User(
                username="carol",
                password_hash="x",
                role=Role.USER,
                linux_user="oqto_carol",
                linux_uid=4242,
            )
        )
    carol = user_id(multi, "carol")
    response = admin.delete(f"/api/admin/users/{carol}")
    assert response.status_code == 409
    assert response.json()["error"] == "use_oqtoctl"
    assert "oqtoctl user delete carol" in response.json()["message"]
    assert carol in [u["id"] for u in admin.get("/api/admin/users").json()]
