"""The request log: a line per request, at debug for a relayed request that succeeded."""

from __future__ import annotations

import logging

import pytest
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from oqto.control.requestlog import RequestLogMiddleware


def _answering(status: int) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return app


def _levels(status: int, path: str, caplog: pytest.LogCaptureFixture) -> list[int]:
    client = TestClient(RequestLogMiddleware(_answering(status)))
    with caplog.at_level(logging.DEBUG, logger="oqto.request"):
        assert client.get(path).status_code == status
    return [r.levelno for r in caplog.records if r.name == "oqto.request"]


AGENT = "/api/sessions/abc/agent/global/health"
FILES = "/api/sessions/abc/files/tree"


@pytest.mark.parametrize(
    ("status", "path", "level"),
    [
        (200, AGENT, logging.DEBUG),
        (304, FILES, logging.DEBUG),
        (404, AGENT, logging.INFO),
        (502, FILES, logging.INFO),
        (200, "/api/sessions/abc", logging.INFO),
        (200, "/api/auth/me", logging.INFO),
    ],
)
def test_one_line_per_request_relayed_successes_at_debug(
    status: int, path: str, level: int, caplog: pytest.LogCaptureFixture
) -> None:
    assert _levels(status, path, caplog) == [level]


def test_at_info_a_relayed_success_writes_no_line(caplog: pytest.LogCaptureFixture) -> None:
    client = TestClient(RequestLogMiddleware(_answering(200)))
    with caplog.at_level(logging.INFO, logger="oqto.request"):
        client.get(AGENT)
        client.get("/api/auth/me")
    lines = [r for r in caplog.records if r.name == "oqto.request"]
    assert [r.__dict__["path"] for r in lines] == ["/api/auth/me"]
