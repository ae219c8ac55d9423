"""The session page's layout: the split view's divider (mouse, touch, keyboard, kept per
browser) and the phone layout (nothing wider than the screen, the composer in view)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from tests.browser.helpers import NewContext, open_session, screenshot, sign_in, signed_in

FITS_WIDTH = "document.scrollingElement.scrollWidth <= innerWidth"
# Controls that stick out of the screen (a pane's overflow: hidden would cut them off
# without widening the page).
# xterm's input textarea is off-screen by design (the keyboard's target, never seen).
OFF_SCREEN = """() => [...document.querySelectorAll(
    '.session-page :is(button, select, input, textarea, a):not(.xterm-helper-textarea)')]
  .filter((e) => e.offsetParent !== null)
  .filter((e) => { const r = e.getBoundingClientRect();
                   return r.left < -0.5 || r.right > innerWidth + 0.5; })
  .map((e) => e.getAttribute('aria-label') || e.textContent.trim().slice(0, 30) || e.tagName)"""


def widths(page: Page) -> tuple[float, float]:
    chat = page.get_by_role("region", name="Chat", exact=True).bounding_box()
    terminal = page.get_by_role("region", name="Terminal", exact=True).bounding_box()
    assert chat and terminal
    return chat["width"], terminal["width"]


def split_with_terminal(page: Page, session: dict[str, Any]) -> None:
    open_session(page, session)
    page.get_by_label("Split with").select_option("terminal")
    terminal = page.get_by_role("region", name="Terminal", exact=True)
    expect(terminal.get_by_text("Connected", exact=True)).to_be_visible()


def test_the_divider_drags_moves_by_keyboard_and_is_remembered(
    new_context: NewContext, shared_session: dict[str, Any]
) -> None:
    page = signed_in(new_context, "desktop")
    split_with_terminal(page, shared_session)
    divider = page.get_by_role("separator", name="Resize panes")
    expect(divider).to_have_attribute("aria-valuenow", "50")
    chat_width, terminal_width = widths(page)
    assert abs(chat_width - terminal_width) < 4

    # Drag with the mouse to about a third.
    box = divider.bounding_box()
    panes = page.locator(".panes").bounding_box()
    assert box and panes
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(panes["x"] + panes["width"] / 3, y, steps=8)
    page.mouse.up()
    expect(divider).to_have_attribute("aria-valuenow", "33")
    chat_width, terminal_width = widths(page)
    assert 1.8 < terminal_width / chat_width < 2.2

    # Dragging far past the edge stops at the minimum width.
    page.mouse.move(panes["x"] + panes["width"] / 3, y)
    page.mouse.down()
    page.mouse.move(panes["x"] + 5, y, steps=8)
    page.mouse.up()
    assert widths(page)[0] >= 239

    # The keyboard: a focusable separator; arrows move it by 5.
    page.keyboard.press("End")
    maximum = int(divider.get_attribute("aria-valuenow") or 0)
    assert maximum >= 75
    divider.focus()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    expect(divider).to_have_attribute("aria-valuenow", str(maximum - 10))
    before = widths(page)
    screenshot(page, "25-split-resized")

    # Remembered in this browser: after a reload the split has the same widths.
    page.reload()
    split_with_terminal(page, shared_session)
    expect(divider).to_have_attribute("aria-valuenow", str(maximum - 10))
    after = widths(page)
    assert abs(after[0] - before[0]) < 3 and abs(after[1] - before[1]) < 3


def test_the_divider_follows_a_finger(
    new_context: NewContext, shared_session: dict[str, Any]
) -> None:
    """A touch drag (real touch events, through the DevTools protocol), on a tablet-wide
    touch screen where the split is still on."""
    page = new_context({"width": 1180, "height": 820}).new_page()
    page.goto("/")
    sign_in(page)
    expect(page.get_by_role("heading", name="Sessions")).to_be_visible()
    split_with_terminal(page, shared_session)
    divider = page.get_by_role("separator", name="Resize panes")
    start = int(divider.get_attribute("aria-valuenow") or 0)
    box = divider.bounding_box()
    panes = page.locator(".panes").bounding_box()
    assert box and panes
    cdp = page.context.new_cdp_session(page)
    cdp.send("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 1})
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    target = panes["x"] + panes["width"] * (0.7 if start < 60 else 0.3)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for step in range(1, 9):
        point = {"x": x + (target - x) * step / 8, "y": y}
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    expected = round((target - panes["x"]) / panes["width"] * 100)
    expect(divider).to_have_attribute("aria-valuenow", str(expected))


LONG_TITLE = "A conversation whose title is much longer than a phone is wide, on purpose"


@pytest.fixture(scope="module")
def long_conversation(api: httpx.Client, shared_session: dict[str, Any]) -> None:
    """A conversation with a long title: the phone's conversation picker (a select as wide
    as its longest option) once pushed the page 84 px past the screen."""
    url = f"/api/sessions/{shared_session['id']}/agent/session"
    made = api.post(url, json={"title": LONG_TITLE})
    assert made.status_code == 200, made.text


@pytest.mark.parametrize("pane", ["Chat", "Files", "Terminal"])
def test_the_phone_layout_fits_the_screen(
    new_context: NewContext, shared_session: dict[str, Any], long_conversation: None, pane: str
) -> None:
    page = signed_in(new_context, "phone")
    open_session(page, shared_session)
    # No split on a phone: one pane at a time.
    expect(page.get_by_label("Split with")).to_be_hidden()
    expect(page.get_by_role("separator", name="Resize panes")).to_have_count(0)
    page.get_by_role("button", name=pane, exact=True).click()
    region = page.get_by_role("region", name=pane, exact=True)
    expect(region).to_be_visible()
    if pane == "Chat":
        picker = region.get_by_role("combobox", name="Conversation")
        expect(picker.locator("option", has_text=LONG_TITLE)).to_have_count(1)
        expect(region.get_by_role("textbox", name="Message")).to_be_in_viewport(ratio=1)
        send = region.get_by_role("button", name="Send", exact=True)
        expect(send).to_be_in_viewport(ratio=1)
    if pane == "Terminal":
        expect(region.get_by_text("Connected", exact=True)).to_be_visible()
        expect(region.locator(".xterm-screen")).to_be_in_viewport(ratio=1)
    if pane == "Files":
        expect(region.locator(".files-tree")).to_be_in_viewport()
    box = region.bounding_box()
    viewport = page.viewport_size
    assert box and viewport
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
    assert box["y"] + box["height"] <= viewport["height"]  # the pane ends on screen
    assert page.evaluate(FITS_WIDTH), page.evaluate(
        "[...document.querySelectorAll('*')].filter(e => e.getBoundingClientRect().right"
        " > innerWidth + 0.5).slice(-5).map(e => e.className || e.tagName)"
    )
    assert page.evaluate(OFF_SCREEN) == []
    screenshot(page, f"26-phone-{pane.lower()}")
