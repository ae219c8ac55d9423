"""`/api/docs`: swagger-ui from our own origin (pinned, shipped in the build), under a CSP
that forbids every other origin and inline script; for signed-in users only."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from oqto.config import load_config
from oqto.control.api import docs
from oqto.control.app import build_context, create_app
from oqto.control.auth.passwords import hash_password
from oqto.db.models import Role, User

REPO = Path(__file__).resolve().parents[2]
BUNDLE = b"window.SwaggerUIBundle = function () {};\n" * 50


@pytest.fixture
def swagger_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """What web/scripts/copy-swagger.mjs puts into the build (small stand-ins)."""
    root = tmp_path / "swagger-ui"
    root.mkdir()
    (root / "swagger-ui-bundle.js").write_bytes(BUNDLE)
    (root / "swagger-ui-bundle.js.gz").write_bytes(gzip.compress(BUNDLE))
    (root / "swagger-ui.css").write_text(".swagger-ui { color: black }\n")
    monkeypatch.setattr(docs, "SWAGGER_DIR", root)
    return root


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    config = tmp_path / "c.toml"
    config.write_text(
        f'[server]\ndata_dir = "{tmp_path}/data"\n[local]\nsocket_dir = "{tmp_path}/run"\n'
    )
    ctx, backend = build_context(load_config(config, environ={}).config, single_user=True)
    with ctx.db.begin() as db:
        db.add(User(username="boss", password_hash=hash_password("boss-pass-1"), role=Role.ADMIN))
    client = TestClient(create_app(ctx, backend))
    token = client.post(
        "/api/auth/login", json={"username": "boss", "password": "boss-pass-1"}
    ).json()["token"]
    client.cookies.clear()
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def test_the_page_loads_only_same_origin_assets_and_no_inline_script(
    client: TestClient, swagger_dir: Path
) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sorted(refs) == [
        "/api/docs/init.js",
        "/api/docs/swagger-ui-bundle.js",
        "/api/docs/swagger-ui.css",
    ]
    # Every <script> has a src: nothing inline for the CSP to have to allow.
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert "//" not in html  # no scheme-relative or absolute URL anywhere

    policy = dict(
        part.strip().split(" ", 1) for part in page.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    assert policy["style-src"].startswith("'self'")
    assert policy["img-src"] == "'self' data:"
    for directive in policy.values():
        assert "http" not in directive and "*" not in directive and "unsafe" not in directive
    assert page.headers["x-frame-options"] == "DENY"


def test_the_assets_are_served_with_their_types(client: TestClient, swagger_dir: Path) -> None:
    expected = {
        "/api/docs/swagger-ui-bundle.js": "text/javascript",
        "/api/docs/swagger-ui.css": "text/css",
        "/api/docs/init.js": "text/javascript",
    }
    for path, media_type in expected.items():
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].split(";")[0] == media_type, path
        assert response.headers["x-content-type-options"] == "nosniff"
    bundle = client.get("/api/docs/swagger-ui-bundle.js", headers={"Accept-Encoding": "gzip"})
    assert bundle.headers["content-encoding"] == "gzip" and bundle.content == BUNDLE
    init = client.get("/api/docs/init.js").text
    assert 'url: "/api/openapi.json"' in init and "validatorUrl: null" in init
    assert client.get("/api/docs/swagger-initializer.js").status_code == 404
    assert client.get("/api/docs/..%2F..%2Fetc%2Fpasswd").status_code == 404


def test_docs_and_assets_need_a_sign_in(client: TestClient, swagger_dir: Path) -> None:
    anonymous = TestClient(client.app)
    for path in ("/api/docs", "/api/docs/init.js", "/api/docs/swagger-ui-bundle.js"):
        assert anonymous.get(path).status_code == 401, path


def test_without_the_build_the_page_says_how_to_get_it(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(docs, "SWAGGER_DIR", tmp_path / "missing")
    page = client.get("/api/docs")
    assert page.status_code == 503 and "scripts/setup.sh" in page.text


def test_swagger_ui_is_pinned_and_copied_by_the_web_build() -> None:
    package = json.loads((REPO / "web" / "package.json").read_text())
    version = package["devDependencies"]["swagger-ui-dist"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"not an exact pin: {version}"
    assert "scripts/copy-swagger.mjs" in package["scripts"]["build"]
    lock = json.loads((REPO / "web" / "package-lock.json").read_text())
    locked = lock["packages"]["node_modules/swagger-ui-dist"]
    assert locked["version"] == version and locked["integrity"].startswith("sha512-")
    built = docs.SWAGGER_DIR / "VERSION"
    if built.is_file():  # built by scripts/setup.sh; the same version must be in it
        assert built.read_text().strip() == version
