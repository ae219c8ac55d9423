"""Auth through the real server: credentials, revocation, throttling, CSRF, isolation."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session as DBSession
from sqlalchemy.orm import sessionmaker
from tests.support.server import OqtoServer

from oqto.control.auth.passwords import hash_password
from oqto.db.engine import make_engine, make_sessionmaker, sqlite_url
from oqto.db.models import AuthToken, Role, User, utcnow


def server_db(server: OqtoServer) -> Iterator[sessionmaker[DBSession]]:
    """The server's own database, opened as another process (e.g. oqtoctl) would."""
    engine = make_engine(sqlite_url(server.root / "data" / "oqto.db"))
    try:
        yield make_sessionmaker(engine)
    finally:
        engine.dispose()


def make_user(server: OqtoServer, role: str = "user") -> tuple[str, str]:
    """A second platform user, written straight into the server's database: these servers
    run in single-user mode, which refuses to add one (by design, see
    `test_single_user_mode_refuses_other_users`). The checks between users tested with it
    are the same code in multi-user mode."""
    name = f"u{uuid.uuid4().hex[:10]}"
    password = f"pw-{uuid.uuid4().hex}"
    for db in server_db(server):
        with db.begin() as session:
            session.add(User(username=name, password_hash=hash_password(password), role=Role(role)))
    return name, password


def login_status(server: OqtoServer, name: str, password: str, forwarded: str | None) -> int:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return httpx.post(
        f"{server.url}/api/auth/login",
        json={"username": name, "password": password},
        headers=headers,
        timeout=60,
    ).status_code


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[Callable[..., OqtoServer]]:
    """A server of its own (fresh throttle state, its own config); stopped afterwards.
    Settings of `[server]` go in by environment (the file already has that table)."""
    started: list[OqtoServer] = []

    def start(extra_config: str = "", **env: str) -> OqtoServer:
        root = tmp_path / f"srv{len(started)}"
        srv = OqtoServer(root, extra_config=extra_config, env=env).start()
        started.append(srv)
        return srv

    try:
        yield start
    finally:
        for srv in started:
            assert srv.stop() == 0, srv.log()[-4000:]


def test_health_is_public(server: OqtoServer) -> None:
    body = httpx.get(f"{server.url}/api/health").json()
    assert body["status"] == "ok" and body["mode"] == "single-user"


def test_no_token_and_bad_token_get_401(server: OqtoServer) -> None:
    with server.client() as anon:
        assert anon.get("/api/sessions").status_code == 401
        assert anon.get("/api/openapi.json").status_code == 401
    with server.client("oqto_not-a-real-token") as forged:
        assert forged.get("/api/sessions").json()["error"] == "unauthorized"


def test_wrong_password_401(server: OqtoServer) -> None:
    response = httpx.post(
        f"{server.url}/api/auth/login", json={"username": "admin", "password": "wrong-password"}
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_credentials"


def test_login_sets_httponly_cookie_and_logout_revokes(server: OqtoServer) -> None:
    response = httpx.post(
        f"{server.url}/api/auth/login",
        json={"username": "admin", "password": server.env["OQTO_ADMIN_PASSWORD"]},
    )
    cookie = response.headers["set-cookie"]
    assert "oqto_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    token = response.json()["token"]
    with server.client(token) as client:
        assert client.get("/api/auth/me").json()["username"] == "admin"
        assert client.get("/api/openapi.json").json()["openapi"].startswith("3.")
        assert client.post("/api/auth/logout").status_code == 204
        assert client.get("/api/auth/me").status_code == 401


def test_cookie_auth_needs_csrf_header_for_changes(server: OqtoServer) -> None:
    with httpx.Client(base_url=server.url) as browser:
        login = browser.post(
            "/api/auth/login",
            json={"username": "admin", "password": server.env["OQTO_ADMIN_PASSWORD"]},
        )
        csrf = login.json()["csrf_token"]
        assert browser.get("/api/sessions").status_code == 200  # cookie alone reads
        refused = browser.post("/api/sessions", json={"workspace": "csrf-test"})
        assert refused.status_code == 403 and refused.json()["error"] == "csrf_failed"
        wrong = browser.post(
            "/api/sessions", json={"workspace": "csrf-test"}, headers={"X-CSRF-Token": "nope"}
        )
        assert wrong.status_code == 403
        ok = browser.post("/api/auth/logout", headers={"X-CSRF-Token": csrf})
        assert ok.status_code == 204


def test_login_is_throttled(server: OqtoServer) -> None:
    name, password = make_user(server)
    statuses = [
        httpx.post(
            f"{server.url}/api/auth/login", json={"username": name, "password": "bad-password"}
        ).status_code
        for _ in range(6)
    ]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429
    blocked = httpx.post(
        f"{server.url}/api/auth/login", json={"username": name, "password": password}
    )
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0


def test_non_admin_cannot_manage_users(server: OqtoServer) -> None:
    name, password = make_user(server)
    with server.client(server.login(name, password)) as user:
        response = user.post("/api/admin/users", json={"username": "x2", "password": "p" * 10})
        assert response.status_code == 403
        assert user.get("/api/admin/users").status_code == 403


def test_bad_input_gets_clear_4xx(admin: httpx.Client) -> None:
    for body in (
        {},
        {"workspace": ""},
        {"workspace": "../etc"},
        {"workspace": "/abs"},
        {"workspace": "ok", "extra": 1},
    ):
        response = admin.post("/api/sessions", json=body)
        assert 400 <= response.status_code < 500, body
        assert response.json()["message"], body
    assert admin.post("/api/sessions", content=b"{not json").status_code == 422
    assert (
        admin.post(
            "/api/admin/users", json={"username": "Bad Name", "password": "longenough1"}
        ).status_code
        == 422
    )


def test_single_user_mode_refuses_other_users(server: OqtoServer, admin: httpx.Client) -> None:
    """The finding: a single-user server took more platform users, who then ran as the
    server's own account."""
    for path, body in (
        ("/api/admin/users", {"username": "mallory", "password": "mallory-pw-1"}),
        ("/api/admin/invites", {}),
    ):
        response = admin.post(path, json=body)
        assert response.status_code == 409, (path, response.text)
        assert response.json()["error"] == "single_user"
    register = httpx.post(
        f"{server.url}/api/auth/register",
        json={"username": "mallory", "password": "mallory-pw-1", "invite_code": "inv_x"},
    )
    assert register.status_code == 409 and register.json()["error"] == "single_user"
    assert "mallory" not in [u["username"] for u in admin.get("/api/admin/users").json()]


def test_a_local_process_cannot_pick_its_address_with_x_forwarded_for(
    own_server: Callable[..., OqtoServer],
) -> None:
    """The finding: X-Forwarded-For was believed from loopback, so any local process could
    give each guess a fresh address. Here the address budget is 1 x 10 failures."""
    srv = own_server("[auth]\nlogin_max_failures = 1\n")
    statuses = [login_status(srv, f"name{i}", "wrong-password", f"198.18.0.{i}") for i in range(11)]
    assert statuses == [401] * 10 + [429], statuses


def test_a_guesser_behind_a_trusted_proxy_does_not_lock_out_the_owner(
    own_server: Callable[..., OqtoServer],
) -> None:
    """The finding: five bad logins from anywhere locked the admin out for everybody."""
    srv = own_server(OQTO_SERVER__TRUSTED_PROXIES='["127.0.0.1"]')
    guesses = [login_status(srv, "admin", "wrong-password", "203.0.113.9") for _ in range(6)]
    assert guesses == [401] * 5 + [429]
    password = srv.env["OQTO_ADMIN_PASSWORD"]
    assert login_status(srv, "admin", password, "198.51.100.7") == 200
    # Addresses the client prepends are not believed: still the throttled guesser.
    assert login_status(srv, "admin", password, "198.51.100.7, 203.0.113.9") == 429


def stream_ends(server: OqtoServer, token: str, revoke: Callable[[], None]) -> bool:
    """Open /api/events, call `revoke`, and say whether the stream ended within 8 s (the
    server's keepalive comes only every 15 s, so a live stream reads nothing until then)."""
    timeout = httpx.Timeout(30, read=8)
    with (
        httpx.Client(base_url=server.url, timeout=timeout) as client,
        client.stream("GET", "/api/events", headers={"Authorization": f"Bearer {token}"}) as r,
    ):
        assert r.status_code == 200
        lines = r.iter_lines()
        assert next(lines) == "event: resync"
        revoke()
        try:
            rest = [line for line in lines if line.startswith("event:")]
        except httpx.ReadTimeout:
            return False
        return rest == []


def test_the_event_stream_ends_after_logout(server: OqtoServer) -> None:
    """The finding: open streams kept delivering after logout."""
    token = server.login()

    def logout() -> None:
        with server.client(token) as client:
            assert client.post("/api/auth/logout").status_code == 204

    assert stream_ends(server, token, logout)


def test_the_event_stream_ends_after_a_revocation_by_another_process(
    server: OqtoServer,
) -> None:
    """Revoked in the database directly, as `oqtoctl user disable` does: the server's
    periodic check (every 2 s) ends the stream."""
    token = server.login()

    def revoke_in_db() -> None:
        for db in server_db(server):
            with db.begin() as session:
                # Only this login: the other tests share the admin's sign-ins.
                rows = session.execute(
                    update(AuthToken)
                    .where(AuthToken.token_hash == _digest(token))
                    .values(revoked_at=utcnow())
                )
                assert rows.rowcount == 1  # type: ignore[attr-defined]

    assert stream_ends(server, token, revoke_in_db)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
