"""Shared constants and steps of the browser tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Page, expect
from tests.support.server import ADMIN_PASSWORD, REPO, OqtoServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WEB_DIST = REPO / "src" / "oqto" / "web_dist"
WEB_SOURCES = REPO / "web"
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1440, "height": 900}
# The second model of the fake provider (conftest.browser_opencode_config).
SECOND_MODEL_ID = "fake-model-2"
PHONE = {"width": 390, "height": 844}

# The `new_context` fixture: a fresh browser context (own cookies: another person).
NewContext = Callable[..., BrowserContext]
# Linux accounts that registration makes in these tests: `oqtotest_<name>`, removed after.
LINUX_PREFIX = "oqtotest_"


class MultiUserServer(OqtoServer):
    """`oqto serve --mode local` without --single-user: users, invites and registration
    are allowed. It runs as root here, as the tests do (CI runs as root), with root as its
    `[runner] service_user`. Users the admin API makes have no Linux account and so no
    runner (their sessions would answer 503 runner_unavailable, which these tests never
    start); registration makes a real account through the usermgr helper listening on
    `usermgr_socket`, which the test that registers runs (tests/ctl/usermgr_support.py).
    """

    def __init__(self, root: Path) -> None:
        self.usermgr_socket = root / "usermgr" / "usermgr.sock"
        skeleton, runner_logs = root / "skel", root / "runner-logs"
        skeleton.mkdir(parents=True, exist_ok=True)
        runner_logs.mkdir(exist_ok=True)
        super().__init__(
            root,
            single_user=False,
            extra_config=f"""
[runner]
service_user = "root"

[provisioning]
linux_user_prefix = "{LINUX_PREFIX}"
skeleton = "{skeleton}"
runner_log_dir = "{runner_logs}"
usermgr_socket = "{self.usermgr_socket}"
runner_start_timeout_seconds = 60
""",
        )
        # A registered user's runner (its own account) reads this config.
        self.config_path.chmod(0o644)


def sign_in(page: Page, username: str = "admin", password: str = ADMIN_PASSWORD) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def unnamed_controls(page: Page) -> list[str]:
    """Interactive elements without an accessible name, read from the accessibility tree
    (a control with a name appears there as `- button "Name"`)."""
    snapshot = page.locator("body").aria_snapshot()
    roles = ("button", "link", "textbox", "combobox", "checkbox", "radio", "slider")
    return [
        line.strip()
        for line in snapshot.splitlines()
        if line.strip().removeprefix("- ").rstrip(":") in roles
    ]


def signed_in(new_context: NewContext, viewport: str = "desktop") -> Page:
    """The administrator, signed in on the sessions page, in a new context at `viewport`
    ("desktop" or "phone")."""
    page = new_context(PHONE if viewport == "phone" else DESKTOP).new_page()
    page.goto("/")
    sign_in(page)
    expect(page.get_by_role("heading", name="Sessions")).to_be_visible()
    return page


def open_session(page: Page, session: dict[str, Any]) -> None:
    page.goto(f"/sessions/{session['id']}")
    expect(page.get_by_role("heading", name=str(session["workspace"]))).to_be_visible()
    expect(page.locator(".session-head [data-status]")).to_have_text("Running")


def workspace_dir(server: OqtoServer, session: dict[str, Any], user: str = "admin") -> Path:
    return server.workspaces / user / str(session["workspace"])


def new_conversation(page: Page) -> None:
    """Open an empty conversation in the chat."""
    page.get_by_role("button", name="New chat").click()
    expect(page.get_by_role("list", name="Messages")).to_contain_text("No messages yet")


def send(page: Page, text: str) -> None:
    """Type a prompt in the composer and send it."""
    page.get_by_role("textbox", name="Message").fill(text)
    page.get_by_role("button", name="Send").click()
