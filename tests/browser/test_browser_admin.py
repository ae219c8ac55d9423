"""The admin pages: users, invites, everyone's sessions."""

from __future__ import annotations

import re
import uuid

import httpx
from playwright.sync_api import Page, expect
from tests.browser.helpers import screenshot, unnamed_controls
from tests.support.server import OqtoServer


def test_create_disable_and_reset_a_user(page: Page, server: OqtoServer, api: httpx.Client) -> None:
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

    row.get_by_role("button", name=f"Check runner of {name}").click()
    expect(row.locator(".runner")).to_contain_text("in-process")
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


def test_create_copy_and_revoke_an_invite(page: Page, api: httpx.Client) -> None:
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
    name, password = f"f{uuid.uuid4().hex[:8]}", "force-stop-pw-1"
    assert api.post("/api/admin/users", json={"username": name, "password": password}).is_success
    with server.client(server.login(name, password)) as owner:
        session = owner.post("/api/sessions", json={"workspace": "theirs"}).json()
        server.wait_status(owner, session["id"], "running")
        page.goto("/admin/sessions")
        row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name))
        expect(row.locator(".badge")).to_have_text("Running")
        screenshot(page, "12-admin-sessions")
        row.get_by_role("button", name=f"Force-stop {name}/theirs").click()
        page.get_by_role("dialog", name="Force-stop session").get_by_role(
            "button", name="Stop it"
        ).click()
        expect(row.locator(".badge")).to_have_text("Stopped")
        assert owner.get(f"/api/sessions/{session['id']}").json()["status"] == "stopped"
