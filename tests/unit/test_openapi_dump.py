"""`python -m oqto.control.openapi_dump`: the document the web UI's types are generated from
is the one a multi-user server serves, printed byte-for-byte the same every time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from oqto.config.model import LocalSection, OqtoConfig, ServerSection
from oqto.control.app import build_context, create_app


def dump() -> str:
    return subprocess.run(
        [sys.executable, "-m", "oqto.control.openapi_dump"],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout


def test_printed_twice_the_same_and_sorted() -> None:
    first = dump()
    assert first == dump()
    document = json.loads(first)
    assert first == json.dumps(document, sort_keys=True, indent=2) + "\n"
    assert document["info"]["title"] == "Oqto" and "/api/sessions" in document["paths"]


def test_same_document_as_a_multi_user_server(tmp_path: Path) -> None:
    config = OqtoConfig(
        server=ServerSection(data_dir=tmp_path / "data"),
        local=LocalSection(socket_dir=tmp_path / "run"),
    )
    ctx, backend = build_context(config, single_user=False)
    assert json.loads(dump()) == create_app(ctx, backend).openapi()
