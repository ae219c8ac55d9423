"""The sessions page: create, live status (no reload), stop, resume, delete."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect
from tests.browser.helpers import NewContext, screenshot, signed_in, unnamed_controls
from tests.support.server import OqtoServer


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
