"""The sessions page: create, live status (no reload), stop, resume, delete; a slow
start's progress per service, a failed one naming its service, and restore after a
restart."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from tests.browser.conftest import _contexts, browser_opencode_config
from tests.browser.helpers import NewContext, screenshot, signed_in, unnamed_controls
from tests.support.fake_llm import FakeLLM
from tests.support.server import OqtoServer, stopped_cleanly, tool_env, wait_for

# Stands in for ttyd until the test lets it start (or makes it fail), by a file in the
# session's workspace (ttyd's working directory): the start then waits on the terminal
# alone, for as long as the test needs to look at it.
GATED_TTYD = """#!/bin/sh
while :; do
  [ -e .let-ttyd-start ] && exec {ttyd} "$@"
  if [ -e .make-ttyd-fail ]; then echo 'ttyd: simulated failure' >&2; exit 4; fi
  sleep 0.05
done
"""


def test_create_a_session_and_follow_its_status_live(
    page: Page, server: OqtoServer, api: httpx.Client, new_context: NewContext
) -> None:
    screenshot(page, "02-sessions-empty")
    page.get_by_label("Workspace").fill("live-status")
    page.get_by_role("button", name="New session").click()
    # The new session opens at once, starting; it turns running by itself (events).
    expect(page.get_by_role("heading", name="live-status")).to_be_visible()
    badge = page.locator(".session-head [data-status]")
    expect(badge).to_have_text("Running", timeout=240_000)
    session_id = page.url.rsplit("/", 1)[1]
    # How long each service took to answer, as the server measured it.
    ready = page.get_by_label("Start-up times")
    expect(ready).to_contain_text(re.compile(r"ready in \d+\.\d s \(agent \d+\.\d s · files"))
    expect(ready).to_contain_text("terminal")

    page.get_by_role("link", name="Sessions", exact=True).click()
    item = page.locator(f"[data-session-id='{session_id}']")
    expect(item.locator("[data-status]")).to_have_text("Running")
    expect(page.get_by_role("status", name="Status updates: Live")).to_be_visible()
    screenshot(page, "02-sessions")
    assert unnamed_controls(page) == []

    # Someone else (here: the API) stops it; this page follows without a reload, and says
    # why it stopped and when it was last used (the chat pane's requests).
    stopped = api.post(f"/api/sessions/{session_id}/stop")
    assert stopped.status_code == 200
    assert stopped.json()["error"] == "stopped by its owner"
    expect(item.locator("[data-status]")).to_have_text("Stopped")
    expect(item).to_contain_text("stopped by its owner")
    expect(item).to_contain_text("last active just now")
    phone = signed_in(new_context, "phone")
    phone_item = phone.locator(f"[data-session-id='{session_id}']")
    expect(phone_item).to_contain_text("stopped by its owner")
    screenshot(phone, "26-sessions-stopped-phone")

    item.get_by_role("button", name="Resume live-status").click()
    expect(item.locator("[data-status]")).to_have_text("Running", timeout=240_000)

    item.get_by_role("button", name="Delete live-status").click()
    dialog = page.get_by_role("dialog", name="Delete session")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(item).to_be_visible()
    item.get_by_role("button", name="Delete live-status").click()
    dialog.get_by_role("button", name="Delete").click()
    expect(item).to_have_count(0)
    assert api.get(f"/api/sessions/{session_id}").status_code == 404


def test_a_failed_create_says_why(page: Page) -> None:
    page.get_by_label("Workspace").fill("../escape")
    page.get_by_role("button", name="New session").click()
    expect(page.get_by_role("alert")).to_contain_text("invalid workspace name")


def test_dark_theme(page: Page) -> None:
    light = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.get_by_label("Theme").select_option("dark")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    dark = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert dark != light
    screenshot(page, "13-dark")
    page.reload()  # the choice is remembered
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory, fake_llm: FakeLLM) -> Iterator[OqtoServer]:
    """A single-user server whose terminals start only when their test says so."""
    root = tmp_path_factory.mktemp("oqto-gated")
    ttyd = shutil.which("ttyd", path=tool_env()["PATH"])
    assert ttyd is not None
    wrapper = root / "gated-ttyd"
    wrapper.write_text(GATED_TTYD.format(ttyd=ttyd))
    wrapper.chmod(0o755)
    opencode_json = root / "opencode.json"
    opencode_json.write_text(json.dumps(browser_opencode_config(fake_llm.base_url)))
    srv = OqtoServer(
        root / "srv",
        opencode_config=opencode_json,
        extra_config=f'[ttyd]\nbinary = "{wrapper}"\n',
        # The stand-in is a shell script in the test's temporary directory: this test is
        # about progress, not confinement.
        sandbox="enabled = false\n",
    ).start()
    try:
        yield srv
    finally:
        stopped_cleanly(srv)


def gate(srv: OqtoServer, workspace: str, name: str) -> None:
    (srv.workspaces / "admin" / workspace / name).touch()


def phase_of(api: httpx.Client, session_id: str, service: str) -> str | None:
    progress = api.get(f"/api/sessions/{session_id}").json()["progress"] or []
    return next((p["phase"] for p in progress if p["service"] == service), None)


def test_a_slow_start_shows_how_far_each_service_got(browser: Browser, gated: OqtoServer) -> None:
    with gated.client(gated.login()) as api, _contexts(browser, gated.url) as new_context:
        page = signed_in(new_context)
        phone = signed_in(new_context, "phone")
        page.get_by_label("Workspace").fill("slow-terminal")
        page.get_by_role("button", name="New session").click()
        expect(page.get_by_role("heading", name="slow-terminal")).to_be_visible()
        session_id = page.url.rsplit("/", 1)[1]

        progress = page.get_by_role("list", name="Start of slow-terminal")
        agent = progress.get_by_role("listitem").filter(has_text="Agent")
        files = progress.get_by_role("listitem").filter(has_text="File server")
        terminal = progress.get_by_role("listitem").filter(has_text="Terminal")
        expect(agent).to_have_text(re.compile(r"^Agent ready in \d+\.\d s$"), timeout=240_000)
        expect(files).to_have_text(re.compile(r"^File server ready in \d+\.\d s$"))
        expect(terminal).to_have_text("Terminal started")
        expect(page.locator(".session-head [data-status]")).to_have_text("Starting")
        expect(page.get_by_role("status").filter(has_text="Starting the session")).to_contain_text(
            re.compile(r"\d+ s so far")
        )
        screenshot(page, "27-session-starting-progress")
        # The API says the same.
        assert phase_of(api, session_id, "terminal") == "started"
        assert phase_of(api, session_id, "agent") == "ready"

        # The list, on a phone, follows the same start without a reload.
        item = phone.locator(f"[data-session-id='{session_id}']")
        listed = item.get_by_role("list", name="Start of slow-terminal")
        expect(listed.get_by_role("listitem").filter(has_text="Terminal")).to_have_text(
            "Terminal started"
        )
        expect(listed.get_by_role("listitem").filter(has_text="Agent")).to_contain_text("ready in")
        screenshot(phone, "28-sessions-starting-progress-phone")
        assert unnamed_controls(phone) == []

        gate(gated, "slow-terminal", ".let-ttyd-start")
        expect(page.locator(".session-head [data-status]")).to_have_text("Running", timeout=60_000)
        expect(item.locator("[data-status]")).to_have_text("Running")
        # Running: the progress gives way to the start-up times.
        expect(item.get_by_role("list")).to_have_count(0)
        expect(page.get_by_label("Start-up times")).to_contain_text("terminal")
        assert api.get(f"/api/sessions/{session_id}").json()["progress"] is None


def test_a_failed_start_names_the_service_that_failed(browser: Browser, gated: OqtoServer) -> None:
    with gated.client(gated.login()) as api, _contexts(browser, gated.url) as new_context:
        created = api.post("/api/sessions", json={"workspace": "broken-terminal"})
        assert created.status_code == 201, created.text
        session_id = created.json()["id"]
        pages = {viewport: signed_in(new_context, viewport) for viewport in ("desktop", "phone")}

        def terminal_of(page: Page) -> Locator:
            item = page.locator(f"[data-session-id='{session_id}']")
            return item.get_by_role("listitem").filter(has_text="Terminal")

        for page in pages.values():
            expect(terminal_of(page)).to_have_text("Terminal started", timeout=60_000)
        gate(gated, "broken-terminal", ".make-ttyd-fail")
        for viewport, page in pages.items():
            item = page.locator(f"[data-session-id='{session_id}']")
            expect(item.locator("[data-status]")).to_have_text("Failed", timeout=60_000)
            expect(terminal_of(page)).to_have_text("Terminal failed")
            item.get_by_text("Why it failed").click()
            expect(item.locator("pre")).to_contain_text("simulated failure")
            screenshot(page, f"29-sessions-start-failed-{viewport}")
        body = api.get(f"/api/sessions/{session_id}").json()
        assert body["status"] == "failed" and body["error"].startswith("terminal")
        assert {p["service"]: p["phase"] for p in body["progress"]}["terminal"] == "failed"
        assert api.delete(f"/api/sessions/{session_id}").status_code == 204


def test_a_restart_brings_back_running_sessions_with_their_last_activity(
    browser: Browser, gated: OqtoServer
) -> None:
    """Last: it restarts the module's server."""
    with gated.client(gated.login()) as api:
        used = api.post("/api/sessions", json={"workspace": "used-before"}).json()["id"]
        parked = api.post("/api/sessions", json={"workspace": "parked"}).json()["id"]
        for workspace in ("used-before", "parked"):
            wait_for(lambda w=workspace: (gated.workspaces / "admin" / w).is_dir(), 60, "workspace")
            gate(gated, workspace, ".let-ttyd-start")
        gated.wait_status(api, used, "running")
        gated.wait_status(api, parked, "running")
        assert api.get(f"/api/sessions/{used}/files/tree").status_code == 200
        api.post(f"/api/sessions/{parked}/stop")
    assert gated.stop() == 0
    gated.start()
    with _contexts(browser, gated.url) as new_context:
        for viewport in ("desktop", "phone"):
            page = signed_in(new_context, viewport)
            back = page.locator(f"[data-session-id='{used}']")
            expect(back.locator("[data-status]")).to_have_text("Running", timeout=240_000)
            # Used seconds before the restart; the row kept it (a start may take a while).
            expect(back).to_contain_text(re.compile(r"last active (just now|\d min ago)"))
            stayed = page.locator(f"[data-session-id='{parked}']")
            expect(stayed.locator("[data-status]")).to_have_text("Stopped")
            expect(stayed).to_contain_text("stopped by its owner")
            screenshot(page, f"30-sessions-restored-{viewport}")
