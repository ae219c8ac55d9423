"""The terminal pane (xterm.js over ttyd through the control plane), split view and the
phone layout."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect
from tests.browser.helpers import (
    NewContext,
    open_session,
    screenshot,
    signed_in,
    unnamed_controls,
)


def terminal_pane(page: Page, session: dict[str, Any]) -> Locator:
    open_session(page, session)
    page.get_by_role("button", name="Terminal", exact=True).click()
    pane = page.get_by_role("region", name="Terminal", exact=True)
    expect(pane.get_by_text("Connected", exact=True)).to_be_visible()
    return pane


def run(page: Page, pane: Locator, command: str) -> None:
    pane.locator(".xterm").click()
    page.keyboard.type(command)
    page.keyboard.press("Enter")


def stty_size(pane: Locator, marker: str) -> tuple[int, int]:
    """The last `<marker> rows cols` line the shell printed."""
    rows = pane.locator(".xterm-rows")
    expect(rows).to_contain_text(re.compile(rf"{marker} \d+ \d+"))
    found = re.findall(rf"{marker} (\d+) (\d+)", rows.inner_text())
    return int(found[-1][0]), int(found[-1][1])


def test_type_a_command_read_its_output_and_resize(
    page: Page, shared_session: dict[str, Any]
) -> None:
    pane = terminal_pane(page, shared_session)
    run(page, pane, "echo oqto-$((6*7))")
    expect(pane.locator(".xterm-rows")).to_contain_text("oqto-42")
    run(page, pane, 'echo "before $(stty size)"')
    rows, cols = stty_size(pane, "before")
    assert rows > 10 and cols > 80
    screenshot(page, "05-terminal")
    assert unnamed_controls(page) == []

    # The pane shrinks with the window; the shell hears about the new size.
    page.set_viewport_size({"width": 900, "height": 600})
    # xterm renders one element per row: once it has re-fitted, the resize frame has been
    # sent, ahead of the next input on the same WebSocket.
    page.wait_for_function(
        "(rows) => document.querySelectorAll('.xterm-rows > div').length < rows", arg=rows
    )
    run(page, pane, 'echo "after $(stty size)"')
    new_rows, new_cols = stty_size(pane, "after")
    assert new_cols < cols and new_rows < rows

    # When the shell ends, the pane says so and reconnects on request.
    run(page, pane, "exit")
    overlay = pane.get_by_role("alert")
    expect(overlay).to_contain_text("Disconnected")
    overlay.get_by_role("button", name="Reconnect").click()
    expect(pane.get_by_text("Connected", exact=True)).to_be_visible()
    run(page, pane, "echo back-$((40+2))")
    expect(pane.locator(".xterm-rows")).to_contain_text("back-42")


def test_paste_from_the_clipboard(page: Page, shared_session: dict[str, Any]) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    pane = terminal_pane(page, shared_session)
    page.evaluate("navigator.clipboard.writeText('echo pasted-$((1+1))')")
    pane.get_by_role("button", name="Paste").click()
    # Pasted (the shell echoes it) and the focus is back in the terminal: then run it.
    expect(pane.locator(".xterm-rows")).to_contain_text("echo pasted-$((1+1))")
    expect(pane.locator(".xterm-helper-textarea")).to_be_focused()
    page.keyboard.press("Enter")
    expect(pane.locator(".xterm-rows")).to_contain_text("pasted-2")


def test_split_view_shows_two_panes(page: Page, shared_session: dict[str, Any]) -> None:
    open_session(page, shared_session)
    page.get_by_label("Split with").select_option("terminal")
    chat = page.get_by_role("region", name="Chat", exact=True)
    terminal = page.get_by_role("region", name="Terminal", exact=True)
    expect(chat).to_be_visible()
    expect(terminal.get_by_text("Connected", exact=True)).to_be_visible()
    chat_box, term_box = chat.bounding_box(), terminal.bounding_box()
    assert chat_box and term_box and chat_box["x"] < term_box["x"]
    screenshot(page, "06-split")


def test_phone_layout_collapses_the_sidebar_and_the_terminal_works(
    new_context: NewContext, shared_session: dict[str, Any]
) -> None:
    page = signed_in(new_context, "phone")
    nav = page.get_by_role("navigation", name="Main")
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(nav.get_by_role("link", name="Account")).to_be_hidden()
    screenshot(page, "07-phone-sessions")
    menu.click()
    expect(nav.get_by_role("link", name="Account")).to_be_visible()
    screenshot(page, "07-phone-menu")
    menu.click()

    pane = terminal_pane(page, shared_session)
    expect(page.get_by_label("Split with")).to_be_hidden()
    run(page, pane, 'echo "phone $(stty size)"')
    rows, cols = stty_size(pane, "phone")
    assert 20 <= cols < 60 and rows > 5
    screenshot(page, "07-phone-terminal")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_shell_survives_a_reload_with_its_screen(
    new_context: NewContext, shared_session: dict[str, Any], viewport: str
) -> None:
    """The terminal is the session's one tmux session: a reload (or any dropped
    connection) reattaches to the same shell, with what it showed and its state."""
    page = signed_in(new_context, viewport)
    marker = uuid.uuid4().hex[:8]
    pane = terminal_pane(page, shared_session)
    run(page, pane, f"export OQTO_KEEP={marker}; echo kept-$OQTO_KEEP")
    expect(pane.locator(".xterm-rows")).to_contain_text(f"kept-{marker}")
    page.reload()
    pane = terminal_pane(page, shared_session)
    # tmux repaints the screen it kept, and the shell is the same one.
    expect(pane.locator(".xterm-rows")).to_contain_text(f"kept-{marker}")
    run(page, pane, 'echo "still-$OQTO_KEEP"')
    expect(pane.locator(".xterm-rows")).to_contain_text(f"still-{marker}")
    screenshot(page, f"22-terminal-reattached-{viewport}")
