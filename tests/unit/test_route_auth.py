"""Invariant: every route but health, login and registration needs auth."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse

from oqto.config import load_config
from oqto.control.app import build_context, create_app

PUBLIC = {("GET", "/api/health"), ("POST", "/api/auth/login"), ("POST", "/api/auth/register")}
# Not in the OpenAPI document (FastAPI nests included routers lazily, so the schema is the
# public way to enumerate HTTP routes; these are the few left out of it).
UNLISTED_HTTP = {("GET", "/api/openapi.json"), ("GET", "/api/docs")}
WEBSOCKETS = ["/api/sessions/abc/terminal", "/api/sessions/abc/agent/pty/x/connect"]
# The browser app's catch-all (oqto.control.web) serves pages, never data; it is not in
# the OpenAPI document and is checked separately below.


@pytest.fixture
def app(tmp_path: Path):  # type: ignore[no-untyped-def]
    config = tmp_path / "c.toml"
    config.write_text(
        f'[server]\ndata_dir = "{tmp_path}/data"\n[local]\nsocket_dir = "{tmp_path}/run"\n'
    )
    ctx, backend = build_context(load_config(config, environ={}).config, single_user=True)
    return create_app(ctx, backend)


def concrete(path: str) -> str:
    return path.replace("{session_id}", "abc").replace("{path}", "x")


def test_every_http_route_but_the_public_ones_needs_auth(app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    routes = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    } | UNLISTED_HTTP
    assert routes >= PUBLIC
    for method, path in sorted(routes - PUBLIC):
        response = client.request(method, concrete(path))
        assert response.status_code == 401, (method, path, response.text)
        if method != "HEAD":
            assert response.json()["error"] == "unauthorized"
    assert len(routes - PUBLIC) >= 20
    assert client.get("/api/health").status_code == 200


def test_login_is_public(app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    assert (
        client.post("/api/auth/login", json={"username": "x", "password": "y"}).status_code == 401
    )


def test_every_websocket_route_needs_auth(app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    for path in WEBSOCKETS:
        with pytest.raises(WebSocketDenialResponse) as info, client.websocket_connect(path):
            pass
        assert info.value.status_code == 401
        assert info.value.json()["error"] == "unauthorized"


def test_bad_token_and_revoked_token(app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    assert client.get("/api/sessions", headers={"Authorization": "Bearer nope"}).status_code == 401
    client.cookies.set("oqto_session", "oqto_forged")
    assert client.get("/api/sessions").status_code == 401


def test_unknown_api_routes_stay_json_404_next_to_the_web_app(app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    for method in ("GET", "POST", "DELETE"):
        response = client.request(method, "/api/no-such-route")
        assert response.status_code == 404, method
        assert response.json()["error"] == "not_found"
