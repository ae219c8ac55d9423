"""The terminal pane (xterm.js over ttyd through the control plane), split view and the
phone layout."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect
from tests.browser.helpers import (
    NewContext,
    open_session,
    screenshot,
    signed_in,
    unnamed_controls,
)
from tests.support.server import OqtoServer


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


@pytest.fixture(scope="module")
def tabs_session(server: OqtoServer, api: httpx.Client) -> Iterator[dict[str, Any]]:
    """A session of its own for the tabs tests, which fill its terminal slots."""
    created = api.post("/api/sessions", json={"workspace": "terminal-tabs-proj"})
    assert created.status_code == 201, created.text
    session = server.wait_status(api, created.json()["id"], "running")
    yield session
    api.post(f"/api/sessions/{session['id']}/stop")


def terminal_tab(page: Page, name: str) -> Locator:
    """The connected panel of terminal `name`."""
    panel = page.get_by_role("tabpanel", name=f"Terminal {name}", exact=True)
    expect(panel.get_by_text("Connected", exact=True)).to_be_visible()
    return panel


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_several_terminals_each_its_own_shell_across_a_reload(
    new_context: NewContext, tabs_session: dict[str, Any], viewport: str
) -> None:
    page = signed_in(new_context, viewport)
    marker = uuid.uuid4().hex[:8]
    terminal_pane(page, tabs_session)
    tabs = page.get_by_role("tab")
    expect(tabs).to_have_count(1)
    one = terminal_tab(page, "1")
    run(page, one, f"export OQTO_TAB=one; echo one-{marker}-$((0+1))")
    expect(one.locator(".xterm-rows")).to_contain_text(f"one-{marker}-1")

    page.get_by_role("button", name="New terminal").click()
    expect(page.get_by_role("tab", name="Terminal 2")).to_have_attribute("aria-selected", "true")
    two = terminal_tab(page, "2")
    run(page, two, f'echo "two-{marker}-$((1+1)) [$OQTO_TAB]"')
    expect(two.locator(".xterm-rows")).to_contain_text(f"two-{marker}-2 []")  # its own shell
    expect(two.locator(".xterm-rows")).not_to_contain_text(f"one-{marker}-1")

    page.reload()
    terminal_pane(page, tabs_session)
    expect(tabs).to_have_count(2)
    two = terminal_tab(page, "2")  # the tab shown before the reload
    expect(two.locator(".xterm-rows")).to_contain_text(f"two-{marker}-2 []")
    page.get_by_role("tab", name="Terminal 1").click()
    one = terminal_tab(page, "1")
    expect(one.locator(".xterm-rows")).to_contain_text(f"one-{marker}-1")
    run(page, one, 'echo "still-$OQTO_TAB"')
    expect(one.locator(".xterm-rows")).to_contain_text("still-one")
    screenshot(page, f"23-terminal-tabs-{viewport}")

    # Up to eight; the ninth is refused with the reason.
    for name in range(3, 9):
        page.get_by_role("button", name="New terminal").click()
        terminal_tab(page, str(name))
    expect(tabs).to_have_count(8)
    page.get_by_role("button", name="New terminal").click()
    expect(page.get_by_role("status").filter(has_text="At most 8 terminals")).to_be_visible()
    expect(tabs).to_have_count(8)
    assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
    screenshot(page, f"23-terminal-tabs-full-{viewport}")

    # Closing a tab ends its shell: the name comes back with a fresh one.
    two_tab = page.get_by_role("tab", name="Terminal 2")
    two_tab.click()
    run(page, terminal_tab(page, "2"), "export OQTO_TAB=two")
    for name in range(2, 9):
        page.get_by_role("button", name=f"Close terminal {name}").click()
    expect(tabs).to_have_count(1)
    page.get_by_role("button", name="New terminal").click()
    again = terminal_tab(page, "2")
    run(page, again, 'echo "again-[$OQTO_TAB]"')
    expect(again.locator(".xterm-rows")).to_contain_text("again-[]")
    page.get_by_role("button", name="Close terminal 2").click()
    expect(tabs).to_have_count(1)


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_terminal_repaints_when_the_theme_changes(
    new_context: NewContext, shared_session: dict[str, Any], viewport: str
) -> None:
    page = signed_in(new_context, viewport)

    def choose(theme: str) -> None:
        menu = page.get_by_role("button", name="Menu")
        if viewport == "phone":
            menu.click()
        page.get_by_label("Theme").select_option(theme)
        if viewport == "phone":
            menu.click()

    choose("dark")
    terminal_pane(page, shared_session)
    expect(page.locator("[role=tabpanel]:not([hidden]) .xterm-scrollable-element")).to_have_css(
        "background-color", "rgb(21, 22, 30)"
    )
    choose("light")
    expect(page.locator("[role=tabpanel]:not([hidden]) .xterm-scrollable-element")).to_have_css(
        "background-color", "rgb(251, 251, 253)"
    )
    screenshot(page, f"24-terminal-light-{viewport}")
    choose("dark")
    expect(page.locator("[role=tabpanel]:not([hidden]) .xterm-scrollable-element")).to_have_css(
        "background-color", "rgb(21, 22, 30)"
    )
