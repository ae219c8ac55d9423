"""The shared error table: every code has exactly one HTTP status and one envelope."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from oqto.control.errors import install_error_handlers
from oqto.protocol.errors import (
    RETRYABLE,
    ErrorCode,
    ErrorEnvelope,
    error_response,
    http_status,
    parse_code,
)


@pytest.mark.parametrize("code", list(ErrorCode))
def test_every_code_has_an_error_status(code: ErrorCode) -> None:
    assert 400 <= http_status(code) <= 599


def test_codes_are_unique_strings() -> None:
    values = [c.value for c in ErrorCode]
    assert len(values) == len(set(values))


def test_a_code_from_a_peer_that_we_do_not_know_becomes_internal() -> None:
    assert parse_code("session_not_running") is ErrorCode.SESSION_NOT_RUNNING
    assert parse_code("made_up_by_a_runner") is ErrorCode.INTERNAL


def test_envelope_carries_the_table_status_and_retry_after_only_when_transient() -> None:
    stopped = error_response(ErrorCode.SESSION_NOT_RUNNING, "session is stopped")
    assert stopped.status_code == 409
    assert "retry-after" not in stopped.headers
    assert ErrorEnvelope.model_validate(json.loads(bytes(stopped.body))).error is (
        ErrorCode.SESSION_NOT_RUNNING
    )
    starting = error_response(ErrorCode.SESSION_STARTING, "session is starting")
    assert starting.status_code == 503
    assert starting.headers["retry-after"] == "1"
    assert ErrorCode.SESSION_STARTING in RETRYABLE


def test_framework_status_overrides_the_table_only_when_given() -> None:
    assert error_response(ErrorCode.NOT_FOUND, "x", status=410).status_code == 410


def test_an_unexpected_error_is_a_500_envelope_without_its_details() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret detail /etc/oqto")

    answer = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert answer.status_code == 500
    assert answer.json() == {"error": "internal", "message": "internal server error"}
