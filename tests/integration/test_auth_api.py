"""Auth through the real server: credentials, revocation, throttling, CSRF, isolation."""

from __future__ import annotations

import uuid

import httpx
from tests.support.server import OqtoServer


def make_user(admin: httpx.Client, role: str = "user") -> tuple[str, str]:
    name = f"u{uuid.uuid4().hex[:10]}"
    password = f"pw-{uuid.uuid4().hex}"
    response = admin.post(
        "/api/admin/users", json={"username": name, "password": password, "role": role}
    )
    assert response.status_code == 201, response.text
    return name, password


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


def test_login_is_throttled(server: OqtoServer, admin: httpx.Client) -> None:
    name, password = make_user(admin)
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


def test_non_admin_cannot_manage_users(server: OqtoServer, admin: httpx.Client) -> None:
    name, password = make_user(admin)
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
