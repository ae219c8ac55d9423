"""Serving the built browser app: SPA fallback, caching, compression, CSP and the boundary
with the API."""

from __future__ import annotations

import gzip
import os
import re
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from oqto.control import web
from oqto.control.errors import install_error_handlers

INDEX = (
    '<!doctype html><meta name="oqto-style-nonce" content="__OQTO_CSP_NONCE__">'
    '<script type="module" src="/assets/app-1a2b.js"></script>'
)


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "favicon.svg").write_text("<svg/>")
    js = b"console.log('app');" * 20
    (root / "assets" / "app-1a2b.js").write_bytes(js)
    (root / "assets" / "app-1a2b.js.gz").write_bytes(gzip.compress(js))
    (tmp_path / "secret.txt").write_text("outside the dist dir")
    return root


def make_app(root: Path) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    api = APIRouter(prefix="/api")

    @api.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/things/{thing}")
    @api.delete("/things/{thing}")
    def thing(thing: str) -> dict[str, str]:
        return {"thing": thing}

    @api.post("/things/{thing}/stop")
    def stop(thing: str) -> dict[str, str]:
        return {"stopped": thing}

    app.include_router(api)
    web.install(app, root)
    return app


@pytest.fixture
def client(dist: Path) -> TestClient:
    return TestClient(make_app(dist))


def nonce_of(response_text: str) -> str:
    match = re.search(r'name="oqto-style-nonce" content="([^"]+)"', response_text)
    assert match
    return match.group(1)


def test_index_has_a_fresh_nonce_matching_its_csp(client: TestClient) -> None:
    first, second = client.get("/"), client.get("/")
    assert first.status_code == 200 and first.headers["content-type"].startswith("text/html")
    nonce = nonce_of(first.text)
    assert "__OQTO_CSP_NONCE__" not in first.text
    assert nonce != nonce_of(second.text)
    csp = first.headers["content-security-policy"]
    assert f"style-src 'self' 'nonce-{nonce}'" in csp
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert first.headers["cache-control"] == "no-store"
    assert first.headers["x-frame-options"] == "DENY"
    assert first.headers["x-content-type-options"] == "nosniff"
    assert first.headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize("path", ["/sessions/abc123", "/admin/users", "/login?next=%2F"])
def test_client_routes_get_the_app(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert "/assets/app-1a2b.js" in response.text


def test_hashed_assets_are_immutable_and_served_compressed(client: TestClient) -> None:
    plain = client.get("/assets/app-1a2b.js", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200
    assert plain.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "javascript" in plain.headers["content-type"]
    assert "content-encoding" not in plain.headers
    zipped = client.get("/assets/app-1a2b.js", headers={"Accept-Encoding": "gzip, br"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["vary"] == "Accept-Encoding"
    assert "javascript" in zipped.headers["content-type"]
    assert zipped.content == plain.content  # httpx undoes the gzip
    assert "content-security-policy" in zipped.headers


def test_other_static_files_revalidate(client: TestClient) -> None:
    response = client.get("/favicon.svg")
    assert response.status_code == 200 and response.headers["cache-control"] == "no-cache"


def test_a_missing_asset_is_404_not_the_app(client: TestClient) -> None:
    response = client.get("/assets/gone-123.js")
    assert response.status_code == 404
    assert "<script" not in response.text


@pytest.mark.parametrize(
    "path", ["/../secret.txt", "/%2e%2e/secret.txt", "/assets/../../secret.txt"]
)
def test_no_file_outside_the_build_is_served(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert "outside the dist dir" not in response.text


def test_api_paths_never_fall_through_to_the_app(client: TestClient) -> None:
    assert client.get("/api/health").json() == {"status": "ok"}
    for method in ("GET", "POST", "PUT", "DELETE"):
        response = client.request(method, "/api/nope")
        assert response.status_code == 404
        assert response.json() == {"error": "not_found", "message": "Not Found"}
    assert client.get("/api").status_code == 404


def test_non_get_on_app_paths_is_refused(client: TestClient) -> None:
    response = client.post("/sessions/abc")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"
    assert response.headers["allow"] == "GET, HEAD"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PATCH", "/api/things/a/stop", "POST"),
        ("GET", "/api/things/a/stop", "POST"),
        ("TRACE", "/api/things/a/stop", "POST"),
        ("PUT", "/api/things/a", "GET, DELETE"),
        ("POST", "/api/health", "GET"),
    ],
)
def test_a_method_no_api_route_serves_is_405_with_allow(
    client: TestClient, method: str, path: str, allow: str
) -> None:
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.json() == {"error": "method_not_allowed", "message": "Method Not Allowed"}


def test_unbuilt_app_says_how_to_build_it(tmp_path: Path) -> None:
    client = TestClient(make_app(tmp_path / "missing"))
    response = client.get("/")
    assert response.status_code == 503
    assert "scripts/setup.sh" in response.text
    assert "content-security-policy" in response.headers


def test_index_is_reread_after_a_rebuild(client: TestClient, dist: Path) -> None:
    assert "v2" not in client.get("/").text
    index = dist / "index.html"
    index.write_text(INDEX + "<!-- v2 -->")
    stat = index.stat()
    os.utime(index, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert "v2" in client.get("/").text
