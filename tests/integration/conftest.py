"""Fixtures that run the real product: oqto serve, opencode, ttyd, oqto-files and a fake
OpenAI-compatible model server (the only fake)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.support.fake_llm import FakeLLM, opencode_config
from tests.support.server import TOOLS_BIN, OqtoServer, stopped_cleanly, tool_env

REQUIRED_TOOLS = ("opencode", "ttyd")


@pytest.fixture(scope="session", autouse=True)
def _tools_present() -> None:
    path = tool_env()["PATH"]
    missing = [name for name in REQUIRED_TOOLS if shutil.which(name, path=path) is None]
    if missing:
        pytest.fail(
            f"missing {', '.join(missing)} (looked in {TOOLS_BIN} and PATH): run scripts/setup.sh",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def fake_llm() -> Iterator[FakeLLM]:
    with FakeLLM() as llm:
        yield llm


@pytest.fixture(scope="session")
def opencode_json(tmp_path_factory: pytest.TempPathFactory, fake_llm: FakeLLM) -> Path:
    path = tmp_path_factory.mktemp("opencode") / "opencode.json"
    path.write_text(json.dumps(opencode_config(fake_llm.base_url)))
    return path


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, opencode_json: Path) -> Iterator[OqtoServer]:
    srv = OqtoServer(
        tmp_path_factory.mktemp("oqto"),
        opencode_config=opencode_json,
        extra_config="[files]\nmax_upload_mb = 1\n",
    ).start()
    try:
        yield srv
    finally:
        stopped_cleanly(srv)


@pytest.fixture(scope="session")
def admin(server: OqtoServer) -> Iterator[httpx.Client]:
    with server.client(server.login()) as client:
        yield client


@pytest.fixture(scope="session")
def running_session(server: OqtoServer, admin: httpx.Client) -> dict[str, object]:
    response = admin.post("/api/sessions", json={"workspace": "shared-proj"})
    assert response.status_code == 201, response.text
    return server.wait_status(admin, response.json()["id"], "running")
