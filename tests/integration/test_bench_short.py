"""The benchmark suite's short form (`bench/run --short` minus its installer, which
`scripts/setup.sh --test` has run): every figure runs against the real product and lands
in the report, so the suite never rots. Nothing here asserts a timing: those belong in
bench/ and its reports."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from tests.support.server import REPO, tool_env

BENCH = REPO / "bench"
CHP = REPO / ".tools" / "chp" / "node_modules" / ".bin" / "configurable-http-proxy"
DATAPLANE_FIGURES = {"agent", "floor", "files", "start", "concurrent_starts", "runner_ping"}
STREAM_FIGURES = {"sse", "transfers", "rss", "terminal"}
PLOTS = {"agent-latency", "throughput", "files-latency"}
HEADINGS = {
    "agent": "## agent:",
    "floor": "## floor:",
    "files": "## files:",
    "start": "## start:",
    "concurrent_starts": "## concurrent_starts:",
    "runner_ping": "## runner_ping",
}


@pytest.mark.timeout(900)
def test_short_suite_reports_every_figure(tmp_path) -> None:
    path = tool_env()["PATH"]
    missing = [
        name
        for name, present in (("wrk", shutil.which("wrk", path=path)), ("chp", CHP.exists()))
        if not present
    ]
    if missing:
        pytest.fail(f"missing {missing}: run scripts/setup.sh --test", pytrace=False)
    out = tmp_path / "reports"
    proc = subprocess.run(
        [sys.executable, str(BENCH / "suite.py"), "--short", "--out", str(out)],
        env=tool_env(),
        capture_output=True,
        text=True,
        timeout=840,
    )
    assert proc.returncode == 0, f"{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}"

    [json_path] = out.glob("*.json")
    report = json.loads(json_path.read_text())
    expected = set(DATAPLANE_FIGURES)
    skippable = set() if os.geteuid() == 0 else {"runner_ping"}  # it creates an account
    if (BENCH / "streams.py").exists():
        expected |= STREAM_FIGURES
    else:
        skippable.add("streams")  # the report says that they are missing
    assert report["errors"] == {}
    assert set(report["skipped"]) <= skippable, report["skipped"]
    assert set(report["figures"]) | set(report["skipped"]) - {"streams"} == expected
    assert report["leftover_processes"] == {}
    assert report["mode"] == "short"

    figures = report["figures"]
    # Every way to opencode was loaded at both ends of the concurrency range, none failed.
    for point in ("c1", "c50"):
        ways = figures["agent"]["stats"][point]
        assert set(ways) == {"direct", "chp", "oqto", "oqto_relay"}
        for name, stats in ways.items():
            assert stats["requests"] > 0 and not stats["errors"], (point, name, stats)
    for case in ("tree_1000", "read_1k"):
        for way in ("direct", "oqto"):
            assert figures["files"][case][way]["n"] > 0
            assert figures["files"][case][way]["errors"] == 0
    assert set(figures["start"]["summary"]) >= {
        "ready_after_agent",
        "ready_after_files",
        "ready_after_terminal",
    }
    assert figures["concurrent_starts"]["per_session_start"]["n"] == 3
    # The targets table finds its value in every figure that ran (it reads their keys).
    for row in report["targets"]:
        if row["figure"] in figures:
            assert isinstance(row["value"], int | float), row

    markdown = json_path.with_suffix(".md").read_text()
    for name in figures.keys() & HEADINGS.keys():
        assert HEADINGS[name] in markdown
    assert set(report["plots"]) == PLOTS
    for png in report["plots"].values():
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({png})" in markdown
