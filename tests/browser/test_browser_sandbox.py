"""How each session is confined, on its page and in the list: a sandboxed session's badge
and details, one the admin's sandbox file leaves unsandboxed (`enabled = false`) in the
warning colour, and one the sandbox refuses, failed with the refusal's reason."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from playwright.sync_api import Locator, Page, expect
from tests.browser.helpers import screenshot, unnamed_controls
from tests.support.server import OqtoServer


@contextmanager
def admin_sandbox_file(server: OqtoServer, text: str) -> Iterator[None]:
    """The server's admin sandbox file says `text` for the sessions started meanwhile (a
    session's policy is read when it starts); then it is as it was."""
    path = server.sandbox_path
    before = path.read_text() if path.exists() else None
    path.write_text(text)
    try:
        yield
    finally:
        if before is None:
            path.unlink()
        else:
            path.write_text(before)


def warning_background(page: Page) -> str:
    """The warning colour as the browser computes it in the current theme."""
    return str(
        page.evaluate(
            """() => {
              const probe = document.createElement("span");
              probe.style.background = "var(--warning-soft)";
              document.body.append(probe);
              const colour = getComputedStyle(probe).backgroundColor;
              probe.remove();
              return colour;
            }"""
        )
    )


def row(page: Page, session: dict[str, Any]) -> Locator:
    return page.locator(f"[data-session-id='{session['id']}']")


def test_sandboxed_and_unsandboxed_sessions_say_so(
    page: Page, server: OqtoServer, api: httpx.Client, shared_session: dict[str, Any]
) -> None:
    boxed = api.get(f"/api/sessions/{shared_session['id']}").json()
    report = boxed["sandbox"]
    assert report is not None and report["enabled"] is True, boxed
    with admin_sandbox_file(server, "enabled = false\n"):
        created = api.post("/api/sessions", json={"workspace": "unsandboxed-proj"})
        assert created.status_code == 201, created.text
        bare = server.wait_status(api, created.json()["id"], "running")
    assert bare["sandbox"]["enabled"] is False, bare
    try:
        page.reload()
        # Sandboxed: profile and network at a glance, the rest in a popover.
        label = f"sandboxed · {report['profile']} · {report['network']}"
        badge = row(page, boxed).get_by_role("button", name=label)
        expect(badge).to_be_visible()
        assert badge.evaluate("e => getComputedStyle(e).backgroundColor") != warning_background(
            page
        )
        badge.click()
        details = page.get_by_role("dialog", name="Sandbox")
        expect(details).to_be_visible()
        expect(details).to_contain_text(f"Profile{report['profile']}")
        expect(details).to_contain_text(f"Network{report['network']}")
        unenforced = report["limits_unenforced"]
        if unenforced:  # a machine without delegated cgroup controllers says why
            expect(details).to_contain_text(f"Limits not enforced: {unenforced}")
            warning = row(page, boxed).get_by_role(
                "button", name=f"limits not enforced: {unenforced}"
            )
            expect(warning).to_be_visible()
        screenshot(page, "20-sandbox-details")
        page.keyboard.press("Escape")
        expect(details).to_be_hidden()

        # Unsandboxed: a warning-coloured badge that says so, in the list and the header.
        bare_badge = row(page, bare).get_by_role("button", name="unsandboxed", exact=True)
        expect(bare_badge).to_be_visible()
        expect(bare_badge).to_have_css("background-color", warning_background(page))
        assert unnamed_controls(page) == []
        page.goto(f"/sessions/{bare['id']}")
        head = page.locator(".session-head")
        expect(head.locator("[data-status]")).to_have_text("Running")
        head.get_by_role("button", name="unsandboxed", exact=True).click()
        expect(page.get_by_role("dialog", name="Sandbox")).to_contain_text("turned off")
        screenshot(page, "21-unsandboxed")
    finally:
        assert api.delete(f"/api/sessions/{bare['id']}").status_code == 204


def test_a_start_the_sandbox_refuses_fails_with_its_reason(
    page: Page, server: OqtoServer, api: httpx.Client
) -> None:
    with admin_sandbox_file(server, "enabled = true\nno_such_key = 1\n"):
        created = api.post("/api/sessions", json={"workspace": "refused-proj"})
        assert created.status_code == 201, created.text
        failed = server.wait_status(api, created.json()["id"], "failed")
    try:
        assert failed["sandbox"] is None and "no_such_key" in failed["error"], failed
        page.reload()
        item = row(page, failed)
        expect(item.locator("[data-status]")).to_have_text("Failed")
        expect(item.get_by_role("button", name="unsandboxed", exact=True)).to_have_count(0)
        item.get_by_text("Why it failed").click()
        expect(item.locator("pre")).to_have_text(failed["error"])
        screenshot(page, "22-sandbox-refused")
    finally:
        assert api.delete(f"/api/sessions/{failed['id']}").status_code == 204
