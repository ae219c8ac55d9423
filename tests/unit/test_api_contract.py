"""The OpenAPI document tells the truth about failures and inputs: every error status it
lists is the shared envelope with codes that have that status, every operation declares
the refusals of its kind, real error responses validate against it, and its request
constraints are the server's own rules."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from oqto.config import load_config
from oqto.control.api.schemas import WORKSPACE_PATTERN, NewPassword, SessionCreateIn
from oqto.control.app import build_context, create_app
from oqto.control.auth.passwords import hash_password, password_problem
from oqto.db.models import Role, User
from oqto.protocol.errors import RETRYABLE, ErrorCode, http_status
from oqto.protocol.sessions import WorkspaceNameError, check_workspace_name

PASSWORD = "boss-pass-1"
PUBLIC = {("get", "/api/health"), ("post", "/api/auth/login"), ("post", "/api/auth/register")}
SAFE = {"get", "head", "options"}
ENVELOPE = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}


def make_app(tmp_path: Path) -> FastAPI:
    config = tmp_path / "c.toml"
    config.write_text(
        f'[server]\ndata_dir = "{tmp_path}/data"\n[local]\nsocket_dir = "{tmp_path}/run"\n'
    )
    ctx, backend = build_context(load_config(config, environ={}).config, single_user=True)
    with ctx.db.begin() as db:
        db.add(User(username="boss", password_hash=hash_password(PASSWORD), role=Role.ADMIN))
    return create_app(ctx, backend)


@pytest.fixture(scope="module")
def doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return make_app(tmp_path_factory.mktemp("doc")).openapi()


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def codes_by_status(operation: dict[str, Any]) -> dict[str, set[str]]:
    return {
        status: set(response.get("x-error-codes", ()))
        for status, response in operation["responses"].items()
    }


def test_every_error_status_is_the_envelope_with_codes_of_that_status(
    doc: dict[str, Any],
) -> None:
    seen = 0
    for method, path, operation in operations(doc):
        for status, response in operation["responses"].items():
            if status == "default" or int(status) < 400:
                continue
            where = (method, path, status)
            assert response["content"] == ENVELOPE, where
            codes = [ErrorCode(code) for code in response["x-error-codes"]]
            assert codes, where
            assert {http_status(code) for code in codes} == {int(status)}, where
            for code in codes:
                assert f"`{code.value}`" in response["description"], where
            if any(code in RETRYABLE for code in codes):
                assert "Retry-After" in response["headers"], where
            seen += 1
    assert seen > 100
    # FastAPI's own 422 body is not what the server sends: it is not in the document.
    assert not {"HTTPValidationError", "ValidationError"} & set(doc["components"]["schemas"])


def test_every_operation_declares_the_refusals_of_its_kind(doc: dict[str, Any]) -> None:
    for method, path, operation in operations(doc):
        codes = codes_by_status(operation)
        where = (method, path)
        if (method, path) not in PUBLIC:
            assert "unauthorized" in codes["401"], where
            if method not in SAFE:
                assert "csrf_failed" in codes["403"], where
        if path.startswith("/api/admin/"):
            assert "forbidden" in codes["403"], where
        if operation.get("parameters") or operation.get("requestBody"):
            assert codes["422"] == {"invalid_request"}, where
        else:
            assert "422" not in codes, where
        if operation.get("requestBody"):
            assert "bad_request" in codes["400"], where


def test_the_proxy_routes_declare_their_own_refusals_and_pass_the_rest_through(
    doc: dict[str, Any],
) -> None:
    proxied = [(m, p, o) for m, p, o in operations(doc) if "proxy" in o["tags"]]
    assert len(proxied) == 14
    for method, path, operation in proxied:
        codes = codes_by_status(operation)
        where = (method, path)
        assert "not_found" in codes["404"], where
        assert "session_not_running" in codes["409"], where
        assert {"session_starting", "runner_unavailable"} <= codes["503"], where
        assert "Retry-After" in operation["responses"]["503"]["headers"], where
        assert "upstream_unavailable" in codes["502"], where
        assert "upstream_timeout" in codes["504"], where
        assert "default" in operation["responses"], where


@pytest.fixture
def served(tmp_path: Path) -> tuple[TestClient, str, schemathesis.BaseSchema]:
    app = make_app(tmp_path)
    client = TestClient(app)
    token = client.post("/api/auth/login", json={"username": "boss", "password": PASSWORD})
    client.cookies.clear()
    return client, token.json()["token"], schemathesis.openapi.from_dict(app.openapi())


def test_real_error_responses_validate_against_the_document(
    served: tuple[TestClient, str, schemathesis.BaseSchema],
) -> None:
    client, token, schema = served
    bearer = {"Authorization": f"Bearer {token}"}
    user = {"username": "carol", "password": "carol-pass-1"}
    wrong_login = {"username": "boss", "password": "not-it-at-all"}
    wrong_current = {"current_password": "not-it-at-all", "new_password": "whatever-new-1"}
    # (method, path in the document, URL, headers, body, the code it answers)
    cases: list[tuple[str, str, str, dict[str, str], object, str]] = [
        ("GET", "/api/sessions", "/api/sessions", {}, None, "unauthorized"),
        ("GET", "/api/sessions/{session_id}", "/api/sessions/nope", bearer, None, "not_found"),
        ("POST", "/api/sessions", "/api/sessions", bearer, {}, "invalid_request"),
        ("POST", "/api/admin/users", "/api/admin/users", bearer, user, "single_user"),
        ("POST", "/api/auth/login", "/api/auth/login", {}, wrong_login, "invalid_credentials"),
        ("POST", "/api/account/password", "/api/account/password", bearer, wrong_current,
         "wrong_password"),
        ("POST", "/api/sessions/{session_id}/resume", "/api/sessions/x/resume", bearer, None,
         "not_found"),
    ]  # fmt: skip
    for method, path, url, headers, body, code in cases:
        response = client.request(method, url, headers=headers, json=body)
        assert response.json()["error"] == code, (path, response.text)
        operation = schema[path][method]
        operation.validate_response(response)
        declared = operation.definition.raw["responses"][str(response.status_code)]
        assert code in declared["x-error-codes"], path


def test_a_cookie_request_without_the_csrf_header_is_the_declared_403(
    served: tuple[TestClient, str, schemathesis.BaseSchema],
) -> None:
    client, token, schema = served
    client.cookies.set("oqto_session", token)
    response = client.post("/api/sessions", json={"workspace": "proj"})
    assert response.status_code == 403 and response.json()["error"] == "csrf_failed"
    schema["/api/sessions"]["POST"].validate_response(response)


@given(st.from_regex(WORKSPACE_PATTERN, fullmatch=True))
def test_a_workspace_name_the_schema_allows_is_one_the_server_keeps_as_it_is(name: str) -> None:
    assert check_workspace_name(name) == name


@pytest.mark.parametrize(
    "name", ["../x", "/abs", ".hidden", "-x", "a/..", "a/b/c/d/e", "x" * 65, "end.", "a /b"]
)
def test_a_workspace_name_the_server_refuses_the_schema_refuses(name: str) -> None:
    with pytest.raises(WorkspaceNameError):
        check_workspace_name(name)
    with pytest.raises(ValidationError):
        SessionCreateIn(workspace=name)


@pytest.mark.parametrize("length", [0, 1, 7, 8, 9, 1024, 1025])
def test_the_new_password_schema_is_password_problem(length: int) -> None:
    password = "p" * length
    try:
        TypeAdapter(NewPassword).validate_python(password)
    except ValidationError:
        accepted = False
    else:
        accepted = True
    assert accepted == (password_problem(password) is None)
