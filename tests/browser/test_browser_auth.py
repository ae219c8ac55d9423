"""Signing in and out, registration with an invite, the account page, keyboard use.

Other users than the admin exist only in multi-user mode: those tests run against the
multi-user server (`multi_*` fixtures); the single-user server offers no registration."""

from __future__ import annotations

import os
import re
import uuid

import httpx
import pytest
from playwright.sync_api import Page, expect
from tests.browser.helpers import (
    LINUX_PREFIX,
    MultiUserServer,
    NewContext,
    screenshot,
    sign_in,
    unnamed_controls,
)
from tests.ctl.support import remove_account
from tests.ctl.usermgr_support import running_server
from tests.support.server import OqtoServer

from oqto.osutil.accounts import lookup


def new_user(api: httpx.Client, role: str = "user") -> tuple[str, str]:
    name = f"u{uuid.uuid4().hex[:8]}"
    password = f"pw-{uuid.uuid4().hex[:12]}"
    created = api.post(
        "/api/admin/users", json={"username": name, "password": password, "role": role}
    )
    assert created.status_code == 201, created.text
    return name, password


def test_failed_then_successful_sign_in_returns_to_the_wanted_page(
    new_context: NewContext, shared_session: dict[str, object]
) -> None:
    page = new_context().new_page()
    wanted = f"/sessions/{shared_session['id']}"
    page.goto(wanted)
    # Not signed in: sent to the sign-in page, remembering where to go.
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fsessions%2F"))
    expect(page.get_by_role("heading", name="Sign in to Oqto")).to_be_visible()
    assert unnamed_controls(page) == []
    screenshot(page, "01-sign-in")

    sign_in(page, "admin", "not-the-password")
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    expect(page).to_have_url(re.compile(r"/login"))
    screenshot(page, "01-sign-in-failed")

    page.get_by_label("Password", exact=True).fill("admin-test-pass-1")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(wanted) + "$"))
    expect(page.get_by_role("heading", name=str(shared_session["workspace"]))).to_be_visible()
    # The bearer token never lands in script-readable storage or the URL.
    storage = page.evaluate("JSON.stringify(localStorage) + JSON.stringify(sessionStorage)")
    assert "oqto_" not in storage and "oqto_" not in page.url
    assert "oqto_session" not in page.evaluate("document.cookie")  # HttpOnly


def test_sign_in_ignores_a_foreign_next(new_context: NewContext, server: OqtoServer) -> None:
    page = new_context().new_page()
    page.goto("/login?next=//evil.example/")
    sign_in(page)
    expect(page.get_by_role("heading", name="Sessions")).to_be_visible()
    assert page.url == f"{server.url}/"


def test_sign_in_with_the_keyboard_only(new_context: NewContext) -> None:
    page = new_context().new_page()
    page.goto("/login")
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type("admin")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    page.keyboard.type("admin-test-pass-1")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Sessions")).to_be_visible()
    # The skip link is the first stop and leads past the navigation.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()


def test_sign_out_ends_the_sign_in(page: Page, server: OqtoServer) -> None:
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to Oqto")).to_be_visible()
    page.goto("/account")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Faccount"))
    # The old cookie is dead on the server, not just forgotten by the browser.
    stale = httpx.get(
        f"{server.url}/api/auth/me", cookies={"oqto_session": cookies["oqto_session"]}
    )
    assert stale.status_code == 401


def test_account_password_and_api_tokens(
    multi_new_context: NewContext, multi_server: MultiUserServer, multi_api: httpx.Client
) -> None:
    server = multi_server
    name, password = new_user(multi_api)
    page = multi_new_context().new_page()
    page.goto("/account")
    sign_in(page, name, password)
    expect(page.get_by_role("heading", name="Account")).to_be_visible()

    # A personal API token: shown once, works as a bearer token, revocable.
    page.get_by_label("Token name").fill("laptop script")
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_test_id("secret-value")
    expect(secret).to_have_text(re.compile(r"^oqto_"))
    token = secret.inner_text()
    screenshot(page, "08-account")
    assert unnamed_controls(page) == []
    assert (
        httpx.get(f"{server.url}/api/auth/me", headers={"Authorization": f"Bearer {token}"}).json()[
            "username"
        ]
        == name
    )
    page.get_by_role("button", name="Done").click()
    expect(secret).to_have_count(0)
    row = page.get_by_role("row", name=re.compile("laptop script"))
    expect(row).to_be_visible()
    row.get_by_role("button", name="Revoke token laptop script").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("No API tokens.")).to_be_visible()
    assert (
        httpx.get(
            f"{server.url}/api/auth/me", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 401
    )

    # Change the password: wrong current one first.
    section = page.get_by_role("region", name="Change password")
    section.get_by_label("Current password").fill("wrong-one")
    section.get_by_label("New password", exact=True).fill("new-password-42")
    section.get_by_label("Repeat new password").fill("new-password-42")
    section.get_by_role("button", name="Change password").click()
    expect(section.get_by_role("alert")).to_have_text("the current password is wrong")
    section.get_by_label("Current password").fill(password)
    section.get_by_role("button", name="Change password").click()
    expect(section.get_by_text("Password changed.")).to_be_visible()
    # Still signed in here; the new password is the one that works now.
    page.reload()
    expect(page.get_by_role("heading", name="Account")).to_be_visible()
    login = httpx.post(
        f"{server.url}/api/auth/login", json={"username": name, "password": "new-password-42"}
    )
    assert login.status_code == 200


def test_a_non_admin_gets_no_admin_page(
    multi_new_context: NewContext, multi_api: httpx.Client
) -> None:
    name, password = new_user(multi_api)
    page = multi_new_context().new_page()
    page.goto("/")
    sign_in(page, name, password)
    expect(page.get_by_role("heading", name="Sessions")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Sessions")).to_be_visible()
    expect(nav.get_by_role("link", name="Admin")).to_have_count(0)
    page.goto("/admin/users")
    expect(page.get_by_role("heading", name="Administrators only")).to_be_visible()
    expect(page.get_by_role("table")).to_have_count(0)
    # And the API refuses the same request from this browser session.
    status = page.evaluate("fetch('/api/admin/users').then((r) => r.status)")
    assert status == 403


def test_register_with_an_invite(
    multi_new_context: NewContext, multi_server: MultiUserServer, multi_api: httpx.Client
) -> None:
    """Registration makes a Linux account (`oqtotest_<name>`) and starts its runner through
    a real usermgr helper, as tests/ctl/test_register.py does; the account goes afterwards."""
    if os.geteuid() != 0:
        pytest.skip("registration makes a Linux account and needs root (CI runs as root)")
    code = multi_api.post("/api/admin/invites", json={"max_uses": 1}).json()["code"]
    name = f"r{uuid.uuid4().hex[:8]}"
    page = multi_new_context().new_page()
    page.goto("/login")
    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
    assert unnamed_controls(page) == []
    page.get_by_label("Invite code").fill("inv_wrong-code")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password", exact=True).fill("register-pw-1")
    page.get_by_label("Repeat password").fill("register-pw-1")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_contain_text("invite code")
    screenshot(page, "09-register")
    # The control plane runs as root here, so the helper serves root.
    with running_server(multi_server.config_path, multi_server.usermgr_socket, 0, 0):
        try:
            page.get_by_label("Invite code").fill(code)
            page.get_by_role("button", name="Create account").click()
            expect(page.get_by_role("heading", name="Sessions")).to_be_visible()
            expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()
            account = lookup(LINUX_PREFIX + name)
            assert account is not None
            users = {u["username"]: u for u in multi_api.get("/api/admin/users").json()}
            assert users[name]["linux_user"] == account.name
        finally:
            remove_account(LINUX_PREFIX + name)


def test_single_user_mode_offers_no_registration(
    new_context: NewContext, server: OqtoServer
) -> None:
    page = new_context().new_page()
    page.goto("/login")
    expect(page.get_by_role("heading", name="Sign in to Oqto")).to_be_visible()
    expect(page.get_by_role("link", name="Create an account")).to_have_count(0)
    # Opened directly, the register page says why instead of offering a form.
    page.goto("/register")
    expect(page.get_by_role("heading", name="Registration is not available")).to_be_visible()
    note = page.get_by_role("note")
    expect(note).to_contain_text("single-user mode")
    expect(note).to_contain_text("multi-user mode")
    expect(page.get_by_label("Invite code")).to_have_count(0)
    expect(page.get_by_role("button", name="Create account")).to_have_count(0)
    screenshot(page, "09-register-single-user")
    assert unnamed_controls(page) == []
    page.get_by_role("link", name="Sign in").click()
    expect(page.get_by_role("heading", name="Sign in to Oqto")).to_be_visible()
    # And the server itself refuses, naming the mode.
    refused = httpx.post(
        f"{server.url}/api/auth/register",
        json={"username": "nobody", "password": "nobody-pw-12", "invite_code": "inv_x"},
    )
    assert refused.status_code == 409 and refused.json()["error"] == "single_user"
