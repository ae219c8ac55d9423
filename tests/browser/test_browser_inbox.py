"""The inbox: what the agents of all the user's running sessions wait on, in one place."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from tests.browser.helpers import NewContext, screenshot, signed_in
from tests.support.fake_llm import FakeLLM, Reply
from tests.support.server import OqtoServer


@pytest.fixture(scope="module")
def second_session(
    server: OqtoServer, api: httpx.Client, shared_session: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    """A session besides the shared one, so the inbox has more than one to ask."""
    created = api.post("/api/sessions", json={"workspace": "browser-inbox"})
    assert created.status_code == 201, created.text
    session = server.wait_status(api, created.json()["id"], "running")
    yield session
    assert api.post(f"/api/sessions/{session['id']}/stop").status_code == 200
    server.wait_status(api, session["id"], "stopped")
    assert api.delete(f"/api/sessions/{session['id']}").status_code == 204


def ask_for_permission(api: httpx.Client, session: dict[str, Any], text: str) -> str:
    """Start a turn whose first tool call needs a permission; returns its conversation."""
    agent = f"/api/sessions/{session['id']}/agent"
    conversation: str = api.post(f"{agent}/session", json={}).json()["id"]
    started = api.post(
        f"{agent}/session/{conversation}/prompt_async",
        json={"parts": [{"type": "text", "text": text}]},
    )
    assert started.status_code == 204, started.text
    return conversation


def open_inbox(page: Page, viewport: str) -> None:
    if viewport == "phone":
        page.get_by_role("button", name="Menu").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Inbox").click()
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_permission_request_is_answered_from_the_inbox(
    new_context: NewContext,
    api: httpx.Client,
    second_session: dict[str, Any],
    fake_llm: FakeLLM,
    viewport: str,
) -> None:
    marker = uuid.uuid4().hex[:8]
    fake_llm.clear()
    fake_llm.enqueue(
        # Outside the workspace: opencode asks first.
        Reply.tool("read", {"filePath": "/etc/hostname"}),
        Reply.say(f"Read it {marker}."),
    )
    page = signed_in(new_context, viewport)
    open_inbox(page, viewport)
    expect(page.get_by_role("status").filter(has_text="Nothing waits for you")).to_be_visible()

    conversation = ask_for_permission(api, second_session, f"read the host name {marker}")
    group = page.get_by_role("region", name="Session browser-inbox")
    request = group.get_by_role("alertdialog", name="Permission request")
    expect(request).to_contain_text("external_directory")
    expect(request).to_contain_text("/etc/*")
    expect(page.get_by_role("status").filter(has_text="1 request waits for you")).to_be_visible()
    # Only the session that waits is listed.
    expect(page.get_by_role("region", name="Session browser-proj")).to_have_count(0)
    link = group.get_by_role("link", name="Open the conversation")
    expect(link).to_have_attribute(
        "href", f"/sessions/{second_session['id']}?conversation={conversation}"
    )
    if viewport == "desktop":
        # The count beside the navigation's link follows the same lists.
        expect(page.get_by_test_id("inbox-count")).to_have_text("1")
        nav = page.get_by_role("navigation", name="Main")
        expect(nav.get_by_role("link", name="Inbox (1 waiting)")).to_be_visible()
    else:
        # The link opens that very conversation, where the request shows as well.
        link.click()
        expect(page.get_by_role("heading", name="browser-inbox")).to_be_visible()
        expect(page.get_by_role("alertdialog", name="Permission request")).to_contain_text(
            "external_directory"
        )
        page.go_back()
        expect(request).to_be_visible()
    screenshot(page, f"42-inbox-{viewport}")

    request.get_by_role("button", name="Allow once").click()
    expect(request).to_have_count(0)
    expect(page.get_by_role("status").filter(has_text="Nothing waits for you")).to_be_visible()
    expect(page.get_by_test_id("inbox-count")).to_have_count(0)
    # The model got the read's result: the permission was granted and the turn went on.
    fake_llm.wait_for_requests(2, timeout=60)
    results = [
        str(message.get("content"))
        for message in fake_llm.agent_requests()[1]["messages"]
        if message.get("role") == "tool"
    ]
    assert results, fake_llm.agent_requests()[1]["messages"]
    assert "/etc/hostname" in results[-1], results
    assert "rejected" not in results[-1], results
