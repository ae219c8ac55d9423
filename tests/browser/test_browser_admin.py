"""The admin pages: users, invites, everyone's sessions.

Users and invites need more than one platform user, so those tests run against the
multi-user server; single-user mode's admin page has only the sessions, and says why."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from playwright.sync_api import Page, expect
from tests.browser.helpers import (
    MultiUserServer,
    NewContext,
    screenshot,
    signed_in,
    unnamed_controls,
)
from tests.support.server import OqtoServer


def test_create_disable_and_reset_a_user(
    multi_page: Page, multi_server: MultiUserServer, multi_api: httpx.Client
) -> None:
    page, server, api = multi_page, multi_server, multi_api
    page.get_by_role("link", name="Admin").click()
    expect(page.get_by_role("heading", name="Administration")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/admin/users$"))
    name = f"b{uuid.uuid4().hex[:8]}"
    form = page.get_by_role("form", name="Create user")
    form.get_by_label("Username").fill(name)
    form.get_by_label("Password").fill("browser-made-1")
    form.get_by_role("button", name="Create user").click()
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name, exact=True))
    expect(row).to_be_visible()
    assert httpx.post(
        f"{server.url}/api/auth/login", json={"username": name, "password": "browser-made-1"}
    ).is_success

    # Made by the admin API, without a Linux account: no runner to ask.
    row.get_by_role("button", name=f"Check runner of {name}").click()
    expect(row.locator(".runner")).to_contain_text("unavailable")
    expect(row.locator(".runner")).to_contain_text("has no Linux account")
    screenshot(page, "10-admin-users")
    assert unnamed_controls(page) == []

    row.get_by_role("button", name=f"Disable {name}").click()
    expect(row).to_contain_text("Disabled")
    assert (
        httpx.post(
            f"{server.url}/api/auth/login", json={"username": name, "password": "browser-made-1"}
        ).status_code
        == 401
    )
    row.get_by_role("button", name=f"Enable {name}").click()
    expect(row).to_contain_text("Active")

    row.get_by_role("button", name=f"Reset password of {name}").click()
    dialog = page.get_by_role("dialog", name=f"New password for {name}")
    dialog.get_by_label("New password").fill("short")
    dialog.get_by_role("button", name="Set password").click()
    expect(dialog.get_by_role("alert")).to_have_text("at least 8 characters")
    dialog.get_by_label("New password").fill("reset-in-browser-1")
    dialog.get_by_role("button", name="Set password").click()
    expect(
        page.get_by_role("status").filter(has_text=f"Password of {name} changed")
    ).to_be_visible()
    assert httpx.post(
        f"{server.url}/api/auth/login", json={"username": name, "password": "reset-in-browser-1"}
    ).is_success

    row.get_by_role("button", name=f"Delete {name}").click()
    page.get_by_role("dialog", name=f"Delete {name}").get_by_role(
        "button", name="Delete user"
    ).click()
    expect(row).to_have_count(0)
    assert name not in [u["username"] for u in api.get("/api/admin/users").json()]


def test_create_copy_and_revoke_an_invite(multi_page: Page, multi_api: httpx.Client) -> None:
    page, api = multi_page, multi_api
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/admin/invites")
    form = page.get_by_role("form", name="Create invite")
    form.get_by_label("Uses").fill("2")
    form.get_by_label("Expires after").select_option(label="1 day")
    form.get_by_label("Note").fill("for the browser test")
    form.get_by_role("button", name="Create invite").click()
    secret = page.get_by_test_id("secret-value")
    expect(secret).to_have_text(re.compile(r"^inv_"))
    code = secret.inner_text()
    page.get_by_role("button", name="Copy invite code").click()
    expect(page.get_by_role("button", name="Copy invite code")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == code
    screenshot(page, "11-admin-invites")
    assert unnamed_controls(page) == []

    invite = next(i for i in api.get("/api/admin/invites").json() if code.startswith(i["prefix"]))
    assert invite["max_uses"] == 2 and invite["note"] == "for the browser test"
    row = page.locator(f"tr[data-invite-prefix='{invite['prefix']}']")
    expect(row.locator(".invite-state")).to_have_text("Active")
    row.get_by_role("button", name=f"Revoke invite {invite['prefix']}").click()
    page.get_by_role("dialog", name="Revoke invite").get_by_role("button", name="Revoke").click()
    expect(row.locator(".invite-state")).to_have_text("Revoked")
    revoked = next(i for i in api.get("/api/admin/invites").json() if i["id"] == invite["id"])
    assert revoked["revoked_at"] is not None


def test_force_stop_anyones_session(page: Page, server: OqtoServer, api: httpx.Client) -> None:
    """Single-user mode has only the admin's own sessions; the admin page stops one the
    same way it stops anyone's."""
    workspace = f"stop-{uuid.uuid4().hex[:6]}"
    session = api.post("/api/sessions", json={"workspace": workspace})
    assert session.status_code == 201, session.text
    server.wait_status(api, session.json()["id"], "running")
    page.goto("/admin/sessions")
    row = page.get_by_role("row").filter(has=page.get_by_role("cell", name=workspace, exact=True))
    expect(row.get_by_role("rowheader")).to_have_text("admin")
    expect(row.locator("[data-status]")).to_have_text("Running")
    screenshot(page, "12-admin-sessions")
    row.get_by_role("button", name=f"Force-stop admin/{workspace}").click()
    page.get_by_role("dialog", name="Force-stop session").get_by_role(
        "button", name="Stop it"
    ).click()
    expect(row.locator("[data-status]")).to_have_text("Stopped")
    assert api.get(f"/api/sessions/{session.json()['id']}").json()["status"] == "stopped"
    assert api.delete(f"/api/sessions/{session.json()['id']}").status_code == 204


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_single_user_admin_shows_only_what_means_something(
    new_context: NewContext, api: httpx.Client, viewport: str
) -> None:
    """One user, so no users or invites pages: the admin page is everyone's (the one
    user's) sessions, and says why the rest is not there."""
    page = signed_in(new_context, viewport)
    if viewport == "phone":
        page.get_by_role("button", name="Menu").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").click()
    expect(page).to_have_url(re.compile(r"/admin/sessions$"))
    sub = page.get_by_role("navigation", name="Administration")
    expect(sub.get_by_role("link", name="All sessions")).to_be_visible()
    expect(sub.get_by_role("link")).to_have_count(1)
    note = page.get_by_role("note", name="Managing users and invites is not available")
    expect(note).to_contain_text("single-user mode")
    expect(note).to_contain_text("server's own Linux account")
    expect(page.get_by_role("table", name="All sessions")).to_be_visible()
    screenshot(page, f"13-admin-single-user-{viewport}")
    assert unnamed_controls(page) == []
    # Old links to the hidden pages land on the sessions, not on an empty form.
    for hidden in ("users", "invites"):
        page.goto(f"/admin/{hidden}")
        expect(page).to_have_url(re.compile(r"/admin/sessions$"))
        expect(page.get_by_role("form")).to_have_count(0)
    # Not only hidden: the server refuses, with the same explanation.
    refused = api.post("/api/admin/invites", json={"max_uses": 1})
    assert refused.status_code == 409 and refused.json()["error"] == "single_user"
    refused = api.post("/api/admin/users", json={"username": "second", "password": "x" * 12})
    assert refused.status_code == 409 and refused.json()["error"] == "single_user"


def test_multi_user_admin_keeps_users_and_invites(multi_page: Page) -> None:
    multi_page.get_by_role("link", name="Admin").click()
    sub = multi_page.get_by_role("navigation", name="Administration")
    for name in ("Users", "Invites", "All sessions"):
        expect(sub.get_by_role("link", name=name)).to_be_visible()
    expect(multi_page.get_by_role("note")).to_have_count(0)
