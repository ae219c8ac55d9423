"""`LiveConnections`: a tracked connection ends soon after its sign-in stops being valid,
whether the change came through the API or straight into the database (another process,
such as `oqtoctl user disable`)."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete, update
from tests.support.server import wait_for

from oqto.config import load_config
from oqto.control.app import build_context, create_app
from oqto.control.auth.deps import Principal
from oqto.control.auth.live import LiveConnections
from oqto.control.auth.passwords import hash_password
from oqto.control.auth.tokens import resolve_digest, resolve_token, token_digest
from oqto.control.context import ControlContext
from oqto.db.models import AuthToken, Role, Session, SessionStatus, User, utcnow

ADMIN_PW = "admin-password-1"
ANN_PW = "ann-password-1"


@dataclass
class World:
    app: FastAPI
    ctx: ControlContext
    client: TestClient
    ann_id: str

    def login(self, name: str, password: str) -> str:
        response = self.client.post(
            "/api/auth/login", json={"username": name, "password": password}
        )
        assert response.status_code == 200, response.text
        return str(response.json()["token"])

    def principal(self, token: str) -> Principal:
        with self.ctx.db() as db:
            resolved = resolve_token(db, token)
        assert resolved is not None
        return Principal(*resolved, via_cookie=False)

    def as_(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def wait_rounds(self, count: int) -> None:
        target = self.ctx.live.rounds + count
        wait_for(lambda: self.ctx.live.rounds >= target, 10, f"{count} live-connection checks")


@dataclass
class Probe:
    """An `on_end` that records that it ran, how often, and whether on an event loop."""

    ended: threading.Event = field(default_factory=threading.Event)
    calls: int = 0
    on_loop: bool = False

    def __call__(self) -> None:
        self.calls += 1
        try:
            asyncio.get_running_loop()
            self.on_loop = True
        except RuntimeError:
            self.on_loop = False
        self.ended.set()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    config = tmp_path / "c.toml"
    config.write_text(
        f'[server]\ndata_dir = "{tmp_path}/data"\n[local]\nsocket_dir = "{tmp_path}/run"\n'
    )
    ctx, backend = build_context(load_config(config, environ={}).config, single_user=True)
    with ctx.db.begin() as db:
        db.add(User(username="boss", password_hash=hash_password(ADMIN_PW), role=Role.ADMIN))
        ann = User(username="ann", password_hash=hash_password(ANN_PW), role=Role.USER)
        db.add(ann)
        db.flush()
        ann_id = ann.id
    ctx.live.interval = 0.1
    app = create_app(ctx, backend)
    with TestClient(app) as client:  # the lifespan runs the periodic check
        yield World(app=app, ctx=ctx, client=client, ann_id=ann_id)


def api_change(world: World, name: str, ann_token: str) -> None:
    """Each way the API ends a sign-in of ann's."""
    c, ann = world.client, world.as_(ann_token)
    if name == "logout":
        assert c.post("/api/auth/logout", headers=ann).status_code == 204
        return
    if name == "password change":
        other = world.login("ann", ANN_PW)  # the one that stays signed in
        body = {"current_password": ANN_PW, "new_password": "ann-new-password"}
        assert c.post("/api/account/password", json=body, headers=world.as_(other)).is_success
        return
    boss = world.as_(world.login("boss", ADMIN_PW))
    path = {
        "disable": f"/api/admin/users/{world.ann_id}/disable",
        "password reset": f"/api/admin/users/{world.ann_id}/password",
    }.get(name)
    if path is not None:
        assert c.post(path, json={"password": "reset-pw-123"}, headers=boss).is_success
        return
    assert name == "delete"
    assert c.delete(f"/api/admin/users/{world.ann_id}", headers=boss).status_code == 204


@pytest.mark.parametrize(
    "change", ["logout", "password change", "disable", "password reset", "delete"]
)
def test_api_changes_end_tracked_connections_at_once(world: World, change: str) -> None:
    token = world.login("ann", ANN_PW)
    probe = Probe()
    world.ctx.live.track(world.principal(token), probe)
    bystander = Probe()
    world.ctx.live.track(world.principal(world.login("boss", ADMIN_PW)), bystander)
    api_change(world, change, token)
    assert probe.ended.wait(5), change
    assert probe.on_loop and probe.calls == 1
    world.wait_rounds(2)
    assert not bystander.ended.is_set()


def test_revoking_an_api_token_ends_its_connections(world: World) -> None:
    login = world.login("ann", ANN_PW)
    created = world.client.post(
        "/api/account/tokens", json={"name": "ci"}, headers=world.as_(login)
    ).json()
    probe = Probe()
    world.ctx.live.track(world.principal(created["token"]), probe)
    revoked = world.client.delete(
        f"/api/account/tokens/{created['info']['id']}", headers=world.as_(login)
    )
    assert revoked.status_code == 204
    assert probe.ended.wait(5)


DB_CHANGES: dict[str, Callable[[ControlContext, str], None]] = {}


Change = Callable[[ControlContext, str], None]


def db_change(name: str) -> Callable[[Change], Change]:
    def register(fn: Change) -> Change:
        DB_CHANGES[name] = fn
        return fn

    return register


@db_change("token revoked")
def _revoke(ctx: ControlContext, user_id: str) -> None:
    with ctx.db.begin() as db:
        db.execute(
            update(AuthToken).where(AuthToken.user_id == user_id).values(revoked_at=utcnow())
        )


@db_change("token expired")
def _expire(ctx: ControlContext, user_id: str) -> None:
    past = utcnow() - dt.timedelta(seconds=1)
    with ctx.db.begin() as db:
        db.execute(update(AuthToken).where(AuthToken.user_id == user_id).values(expires_at=past))


@db_change("user disabled")
def _disable(ctx: ControlContext, user_id: str) -> None:
    with ctx.db.begin() as db:
        db.execute(update(User).where(User.id == user_id).values(disabled=True))


@db_change("role changed")
def _role(ctx: ControlContext, user_id: str) -> None:
    with ctx.db.begin() as db:
        db.execute(update(User).where(User.id == user_id).values(role=Role.ADMIN))


@db_change("user deleted")
def _delete(ctx: ControlContext, user_id: str) -> None:
    with ctx.db.begin() as db:
        db.execute(delete(User).where(User.id == user_id))


@pytest.mark.parametrize("change", sorted(DB_CHANGES))
def test_database_changes_end_tracked_connections_within_seconds(world: World, change: str) -> None:
    probe = Probe()
    world.ctx.live.track(world.principal(world.login("ann", ANN_PW)), probe)
    bystander = Probe()
    world.ctx.live.track(world.principal(world.login("boss", ADMIN_PW)), bystander)
    world.wait_rounds(1)
    assert not probe.ended.is_set()
    DB_CHANGES[change](world.ctx, world.ann_id)
    assert probe.ended.wait(5), change
    assert probe.on_loop and probe.calls == 1
    assert not bystander.ended.is_set()
    assert world.ctx.live.tracked_count() == 1


def test_a_user_disabled_in_the_database_has_their_sessions_stopped(world: World) -> None:
    with world.ctx.db.begin() as db:
        row = Session(user_id=world.ann_id, workspace="w", status=SessionStatus.RUNNING)
        db.add(row)
        db.flush()
        session_id = row.id
    world.wait_rounds(2)

    def status() -> SessionStatus:
        with world.ctx.db() as db:
            found = db.get(Session, session_id)
            assert found is not None
            return found.status

    assert status() is SessionStatus.RUNNING  # an enabled user's session is left alone
    _disable(world.ctx, world.ann_id)
    wait_for(lambda: status() is SessionStatus.STOPPED, 10, "the disabled user's session to stop")


def test_on_end_runs_at_most_once_and_not_after_untrack(world: World) -> None:
    live: LiveConnections = world.ctx.live
    token = world.login("ann", ANN_PW)
    probe, untracked = Probe(), Probe()
    live.track(world.principal(token), probe)
    untrack = live.track(world.principal(token), untracked)
    untrack()
    principal = world.principal(token)
    live.end_token(principal.token.id)
    live.end_token(principal.token.id)
    live.end_user(world.ann_id)
    assert probe.ended.wait(5)
    world.wait_rounds(2)
    assert probe.calls == 1
    assert untracked.calls == 0
    assert live.tracked_count() == 0


# -- the data plane's sign-in cache ------------------------------------------------------


def cache_sign_in(world: World, token: str) -> str:
    """Put `token`'s sign-in in the cache as a proxied request would; its digest."""
    digest = token_digest(token)
    with world.ctx.db() as db:
        resolved = resolve_digest(db, digest)
    assert resolved is not None
    world.ctx.tokens.put(digest, resolved, world.ctx.tokens.begin())
    return digest


@pytest.mark.parametrize(
    "change", ["logout", "password change", "disable", "password reset", "delete"]
)
def test_api_changes_drop_cached_sign_ins_at_once(world: World, change: str) -> None:
    token = world.login("ann", ANN_PW)
    ann = cache_sign_in(world, token)
    boss = cache_sign_in(world, world.login("boss", ADMIN_PW))
    api_change(world, change, token)
    assert world.ctx.tokens.get(ann) is None, change  # no check round needed
    assert world.ctx.tokens.get(boss) is not None


def test_revoking_an_api_token_drops_its_cached_sign_in(world: World) -> None:
    login = world.login("ann", ANN_PW)
    created = world.client.post(
        "/api/account/tokens", json={"name": "ci"}, headers=world.as_(login)
    ).json()
    api, session = cache_sign_in(world, created["token"]), cache_sign_in(world, login)
    revoked = world.client.delete(
        f"/api/account/tokens/{created['info']['id']}", headers=world.as_(login)
    )
    assert revoked.status_code == 204
    assert world.ctx.tokens.get(api) is None
    assert world.ctx.tokens.get(session) is not None


@pytest.mark.parametrize("change", sorted(DB_CHANGES))
def test_database_changes_drop_cached_sign_ins_within_seconds(world: World, change: str) -> None:
    """Nothing tracked: the check round re-reads cached tokens on their own account."""
    ann = cache_sign_in(world, world.login("ann", ANN_PW))
    boss = cache_sign_in(world, world.login("boss", ADMIN_PW))
    world.wait_rounds(1)
    assert world.ctx.tokens.get(ann) is not None
    assert world.ctx.live.tracked_count() == 0
    DB_CHANGES[change](world.ctx, world.ann_id)
    wait_for(lambda: world.ctx.tokens.get(ann) is None, 5, f"ann's sign-in to go ({change})")
    world.wait_rounds(1)
    assert world.ctx.tokens.get(boss) is not None
