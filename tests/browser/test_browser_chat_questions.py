"""What the agent waits on in the chat (its questions, permission requests) and its todo
list, against the session's real opencode and the fake model."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect
from tests.browser.helpers import (
    NewContext,
    new_conversation,
    open_session,
    screenshot,
    send,
    signed_in,
)
from tests.support.fake_llm import FakeLLM, Reply


def tool_results(fake_llm: FakeLLM) -> list[str]:
    """What opencode told the model its tools returned, over every request so far."""
    return [
        str(message.get("content"))
        for body in fake_llm.agent_requests()
        for message in body.get("messages", [])
        if message.get("role") == "tool"
    ]


def wait_for_tool_result(fake_llm: FakeLLM, needle: str) -> str:
    """The tool result containing `needle`, once the model has been sent it."""
    for count in range(2, 10):
        fake_llm.wait_for_requests(count, timeout=60)
        found = [result for result in tool_results(fake_llm) if needle in result]
        if found:
            return found[0]
    raise AssertionError(f"no tool result with {needle!r}: {tool_results(fake_llm)}")


COLOUR = {
    "question": "Which colour should the button be?",
    "header": "Colour",
    "options": [
        {"label": "Red", "description": "Warm and loud"},
        {"label": "Blue", "description": "Calm"},
    ],
}
SIZES = {
    "question": "Which sizes do we ship?",
    "header": "Sizes",
    "multiple": True,
    "options": [
        {"label": "Small", "description": "Phones"},
        {"label": "Medium", "description": "Tablets"},
        {"label": "Large", "description": "Desktops"},
    ],
}


def question_form(page: Page) -> Locator:
    return page.get_by_role("form", name="The agent asks: Colour, Sizes")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_agent_asks_and_the_answer_reaches_it(
    new_context: NewContext, shared_session: dict[str, Any], fake_llm: FakeLLM, viewport: str
) -> None:
    marker = uuid.uuid4().hex[:8]
    fake_llm.clear()
    fake_llm.enqueue(
        Reply.tool("question", {"questions": [COLOUR, SIZES]}),
        Reply.say(f"Noted {marker}."),
    )
    page = signed_in(new_context, viewport)
    open_session(page, shared_session)
    new_conversation(page)
    send(page, f"design a button {marker}")

    form = question_form(page)
    expect(form).to_be_visible()
    colour = form.get_by_role("group", name="Colour Which colour should the button be?")
    sizes = form.get_by_role("group", name="Sizes Which sizes do we ship?")
    expect(colour.get_by_role("radio")).to_have_count(2)
    expect(colour).to_contain_text("Warm and loud")
    expect(sizes.get_by_role("checkbox")).to_have_count(3)
    expect(sizes).to_contain_text("Pick any that apply.")
    # opencode's tool always allows an answer of one's own.
    expect(sizes.get_by_role("textbox", name="Your own answer: Sizes")).to_be_visible()
    answer = form.get_by_role("button", name="Answer")
    expect(answer).to_be_disabled()

    if viewport == "desktop":
        colour.get_by_role("radio", name="Red").check()
        colour.get_by_role("radio", name="Blue").check()
        expected_colour = "Blue"
    else:
        colour.get_by_role("radio", name="Red").check()
        colour.get_by_role("textbox").fill("Teal")
        # A typed answer replaces the picked option of a one-choice question.
        expect(colour.get_by_role("radio", name="Red")).not_to_be_checked()
        expected_colour = "Teal"
    expect(answer).to_be_disabled()  # Sizes has no answer yet.
    sizes.get_by_role("checkbox", name="Small").check()
    sizes.get_by_role("checkbox", name="Large").check()
    expect(answer).to_be_enabled()
    form.scroll_into_view_if_needed()
    screenshot(page, f"40-chat-question-{viewport}")
    answer.click()

    expect(form).to_have_count(0)
    expect(page.get_by_role("list", name="Messages")).to_contain_text(f"Noted {marker}.")
    expect(page.get_by_role("status").filter(has_text="The agent is idle")).to_be_attached()
    result = wait_for_tool_result(fake_llm, "Which colour should the button be?")
    assert f'"Which colour should the button be?"="{expected_colour}"' in result, result
    assert '"Which sizes do we ship?"="Small, Large"' in result, result


def test_pending_requests_survive_a_reload(
    page: Page, shared_session: dict[str, Any], fake_llm: FakeLLM
) -> None:
    """A permission request, then a question, each still there after a reload (listed from
    opencode, since their events went out before it), and answerable then."""
    marker = uuid.uuid4().hex[:8]
    fake_llm.clear()
    fake_llm.enqueue(
        Reply.tool("read", {"filePath": "/etc/hostname"}),
        Reply.tool("question", {"questions": [COLOUR, SIZES]}),
        Reply.say(f"All set {marker}."),
    )
    open_session(page, shared_session)
    new_conversation(page)
    send(page, f"look around {marker}")

    permission = page.get_by_role("alertdialog", name="Permission request")
    expect(permission).to_contain_text("external_directory")
    page.reload()
    expect(permission).to_contain_text("external_directory")
    expect(permission).to_contain_text("/etc/*")
    permission.get_by_role("button", name="Allow once").click()
    expect(permission).to_have_count(0)

    form = question_form(page)
    expect(form).to_be_visible()
    page.reload()
    expect(form).to_be_visible()
    form.get_by_role("radio", name="Red").check()
    form.get_by_role("checkbox", name="Medium").check()
    form.get_by_role("button", name="Answer").click()
    expect(form).to_have_count(0)
    expect(page.get_by_role("list", name="Messages")).to_contain_text(f"All set {marker}.")
    result = wait_for_tool_result(fake_llm, "Which colour should the button be?")
    assert '"Which colour should the button be?"="Red"' in result, result
    # The read went ahead: it was allowed, not refused.
    assert not [r for r in tool_results(fake_llm) if "rejected permission" in r]


def test_a_dismissed_question_ends_the_turn(
    page: Page, shared_session: dict[str, Any], fake_llm: FakeLLM
) -> None:
    marker = uuid.uuid4().hex[:8]
    fake_llm.clear()
    fake_llm.enqueue(Reply.tool("question", {"questions": [COLOUR]}))
    open_session(page, shared_session)
    new_conversation(page)
    send(page, f"ask me {marker}")
    form = page.get_by_role("form", name="The agent asks: Colour")
    form.get_by_role("button", name="Dismiss").click()
    expect(form).to_have_count(0)
    # opencode fails the tool call and stops the turn, as for a refused permission.
    tool = page.locator(".tool[data-tool='question']")
    expect(tool).to_contain_text("The user dismissed this question")
    expect(page.get_by_role("status").filter(has_text="The agent is idle")).to_be_attached()
    assert len(fake_llm.agent_requests()) == 1


def todos(*items: tuple[str, str]) -> dict[str, Any]:
    return {
        "todos": [
            {"content": content, "status": status, "priority": "medium"}
            for content, status in items
        ]
    }


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_todo_list_shows_and_follows_the_agent(
    new_context: NewContext, shared_session: dict[str, Any], fake_llm: FakeLLM, viewport: str
) -> None:
    marker = uuid.uuid4().hex[:8]
    gate = threading.Event()
    fake_llm.clear()
    fake_llm.enqueue(
        Reply.tool("todowrite", todos(("Sketch the page", "in_progress"), ("Write it", "pending"))),
        # Holds the turn after its first words, so the first list can be looked at.
        Reply.tool(
            "todowrite",
            todos(("Sketch the page", "completed"), ("Write it", "in_progress")),
            text="Moving on to the next step.",
            gate=gate,
        ),
        Reply.say(f"Planned {marker}."),
    )
    page = signed_in(new_context, viewport)
    open_session(page, shared_session)
    new_conversation(page)
    send(page, f"plan it {marker}")

    todo = page.get_by_role("list", name="The agent's todo list")
    items = todo.get_by_role("listitem")
    try:
        expect(items).to_have_count(2)
        expect(items.nth(0)).to_have_attribute("data-status", "in_progress")
        expect(items.nth(0)).to_contain_text("Sketch the page")
        expect(items.nth(0)).to_contain_text("in progress")
        expect(items.nth(1)).to_have_attribute("data-status", "pending")
        expect(page.locator(".todos summary")).to_contain_text("0 of 2 done")
        screenshot(page, f"41-chat-todos-{viewport}")
    finally:
        gate.set()
    expect(items.nth(0)).to_have_attribute("data-status", "completed")
    expect(items.nth(0)).to_contain_text("done")
    expect(items.nth(1)).to_have_attribute("data-status", "in_progress")
    expect(page.locator(".todos summary")).to_contain_text("1 of 2 done")
    expect(page.get_by_role("list", name="Messages")).to_contain_text(f"Planned {marker}.")
    # The list is opencode's, not only the page's: a reload shows it as it stands.
    page.reload()
    expect(items.nth(0)).to_have_attribute("data-status", "completed")
    expect(items).to_have_count(2)
