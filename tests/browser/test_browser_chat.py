"""The chat pane against the session's real opencode, answering from the fake model."""

from __future__ import annotations

import re
import threading
import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from tests.browser.helpers import (
    SECOND_MODEL_ID,
    NewContext,
    new_conversation,
    open_session,
    screenshot,
    send,
    signed_in,
    unnamed_controls,
    workspace_dir,
)
from tests.support.fake_llm import DEFAULT_MODEL_ID, DEFAULT_PROVIDER_ID, FakeLLM, Reply
from tests.support.server import OqtoServer


def test_streamed_answer_with_a_tool_call_and_safe_markdown(
    page: Page, shared_session: dict[str, Any], fake_llm: FakeLLM
) -> None:
    marker = uuid.uuid4().hex[:8]
    gate = threading.Event()
    fake_llm.clear()
    fake_llm.enqueue(
        Reply.tool("bash", {"command": f"echo tool-{marker}", "description": "say the marker"}),
        Reply.say(
            f"Streaming part one {marker}. "
            "Then **bold** text, a hostile <img src=x onerror=alert(1)> tag, "
            "<script>alert(2)</script> and code:\n\n```python\ndef answer():\n    return 42\n```\n",
            chunk_size=12,
            gate=gate,
        ),
    )
    open_session(page, shared_session)
    expect(page.get_by_role("status", name="Agent events: Live")).to_be_visible()
    new_conversation(page)
    send(page, f"please run the marker {marker}")
    messages = page.get_by_role("list", name="Messages")
    expect(messages.locator(".message.user")).to_contain_text(f"please run the marker {marker}")

    # The tool call: name, arguments, result, finished.
    tool = messages.locator(".tool[data-tool='bash']")
    expect(tool.locator(".badge")).to_have_text("Finished")
    expect(tool.locator(".tool-summary")).to_contain_text(f"echo tool-{marker}")
    tool.locator("summary").click()
    expect(tool.locator(".tool-input")).to_contain_text(f'"command": "echo tool-{marker}"')
    expect(tool.locator(".tool-output")).to_have_text(f"tool-{marker}")

    # The answer streams: its first chunk shows while the model still holds the rest.
    answer = messages.locator(".message.assistant .markdown").last
    expect(answer).to_contain_text("Streaming pa")
    expect(page.get_by_role("button", name="Stop the agent")).to_be_visible()
    assert "return 42" not in answer.inner_text()
    gate.set()
    expect(answer.locator("strong")).to_have_text("bold")
    expect(answer.locator("pre code")).to_contain_text("return 42")
    expect(page.get_by_role("button", name="Stop the agent")).to_have_count(0)
    # Highlighted (lazily loaded). The agent's raw HTML is shown as text, never built:
    # no element, no script, no handler (and no CSP report: the page watch checks that).
    expect(answer.locator("pre code.hljs .hljs-keyword").first).to_be_visible()
    expect(answer).to_contain_text("a hostile <img src=x onerror=alert(1)> tag")
    expect(answer).to_contain_text("<script>alert(2)</script>")
    assert answer.locator("img, script").count() == 0
    screenshot(page, "03-chat")
    assert unnamed_controls(page) == []


def test_abort_a_running_turn(
    page: Page, shared_session: dict[str, Any], fake_llm: FakeLLM
) -> None:
    never = threading.Event()  # the model would take forever
    fake_llm.clear()
    fake_llm.enqueue(Reply.say("A very slow answer that never finishes", chunk_size=6, gate=never))
    open_session(page, shared_session)
    new_conversation(page)
    send(page, "take your time")
    answer = page.locator(".message.assistant").last
    expect(answer).to_contain_text("A very")
    page.get_by_role("button", name="Stop the agent").click()
    expect(answer.locator(".stopped")).to_have_text("Stopped.")
    expect(page.get_by_role("button", name="Stop the agent")).to_have_count(0)
    request = fake_llm.wait_for_requests(1)[0]
    assert request.finished.wait(30) and request.disconnected
    # The conversation goes on afterwards.
    send(page, "and now quickly")
    expect(page.locator(".message.assistant").last).to_contain_text("FAKE-REPLY: and now quickly")


CONFIGURED = f"{DEFAULT_PROVIDER_ID}/{DEFAULT_MODEL_ID}"
SECOND = f"{DEFAULT_PROVIDER_ID}/{SECOND_MODEL_ID}"


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_chat_starts_on_the_configured_model_and_a_conversation_keeps_its_own(
    new_context: NewContext, shared_session: dict[str, Any], fake_llm: FakeLLM, viewport: str
) -> None:
    """opencode also offers its public providers (OpenCode Zen first in its defaults): a
    new conversation still starts on the model the config names, a conversation that
    used another model reopens on that one after a reload, and the model picked is the
    one the prompt goes to."""
    page = signed_in(new_context, viewport)
    fake_llm.clear()
    open_session(page, shared_session)
    new_conversation(page)
    picker = page.get_by_label("Model")
    expect(picker).to_have_value(CONFIGURED)
    assert picker.locator("option", has_text="OpenCode Zen").count() > 0  # offered, not chosen
    picker.select_option(SECOND)
    send(page, f"on the second model {viewport}")
    expect(page.locator(".message.assistant").last).to_contain_text(
        f"FAKE-REPLY: on the second model {viewport}"
    )
    assert fake_llm.agent_requests()[-1]["model"] == SECOND_MODEL_ID
    page.reload()
    # The most recent conversation is reopened from the server, on the model it used.
    expect(page.locator(".message.assistant").last).to_contain_text(
        f"FAKE-REPLY: on the second model {viewport}"
    )
    expect(page.get_by_label("Model")).to_have_value(SECOND)
    composer = page.get_by_role("button", name="Send")
    composer.scroll_into_view_if_needed()
    expect(composer).to_be_in_viewport()
    screenshot(page, f"20-chat-model-{viewport}")
    new_conversation(page)
    expect(page.get_by_label("Model")).to_have_value(CONFIGURED)
    send(page, "back on the configured one")
    expect(page.locator(".message.assistant").last).to_contain_text("FAKE-REPLY: back on")
    assert fake_llm.agent_requests()[-1]["model"] == DEFAULT_MODEL_ID


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_retries_are_shown_and_a_prompt_sent_meanwhile_is_not_lost(
    new_context: NewContext, shared_session: dict[str, Any], fake_llm: FakeLLM, viewport: str
) -> None:
    """While the model fails and opencode retries, the chat says so (reason, attempt,
    countdown); a prompt sent meanwhile is queued, shown, and sent once the turn ends."""
    page = signed_in(new_context, viewport)
    fake_llm.clear()
    fake_llm.enqueue(
        Reply.fail(500, "the model is down"),
        Reply.fail(500, "the model is down"),
        Reply.say("recovered after retries"),
    )
    open_session(page, shared_session)
    new_conversation(page)
    send(page, f"first while failing {viewport}")
    notice = page.get_by_role("status", name="The model is not answering")
    expect(notice).to_contain_text("Attempt")
    expect(notice).to_contain_text("trying again")
    send(page, f"second during the retries {viewport}")
    queued = page.get_by_role("list", name="Queued prompts")
    expect(queued).to_contain_text(f"second during the retries {viewport}")
    screenshot(page, f"21-chat-retrying-{viewport}")
    messages = page.get_by_role("list", name="Messages")
    expect(messages.locator(".message.assistant").first).to_contain_text("recovered after retries")
    expect(notice).to_have_count(0)
    # The queued prompt went out after the turn and got its own answer.
    expect(messages.locator(".message.user").last).to_contain_text(
        f"second during the retries {viewport}"
    )
    expect(messages.locator(".message.assistant").last).to_contain_text(
        f"FAKE-REPLY: second during the retries {viewport}"
    )
    expect(queued).to_have_count(0)


def test_file_edits_show_the_file_and_the_change(
    page: Page, server: OqtoServer, shared_session: dict[str, Any], fake_llm: FakeLLM
) -> None:
    target = workspace_dir(server, shared_session) / "agent-notes.txt"
    fake_llm.clear()
    fake_llm.enqueue(
        Reply.tool("write", {"filePath": str(target), "content": "alpha\nbeta\n"}),
        Reply.tool("edit", {"filePath": str(target), "oldString": "beta", "newString": "gamma"}),
        Reply.say("Edited the notes."),
    )
    open_session(page, shared_session)
    new_conversation(page)
    send(page, "write and edit the notes")
    messages = page.get_by_role("list", name="Messages")
    expect(messages).to_contain_text("Edited the notes.")
    write = messages.locator(".tool[data-tool='write']")
    expect(write.locator(".tool-name")).to_have_text(f"write {target}")
    expect(write.locator(".badge")).to_have_text("Finished")
    edit = messages.locator(".tool[data-tool='edit']")
    expect(edit.locator(".badge")).to_have_text("Finished")
    edit.locator("summary").click()
    expect(edit.locator(".tool-diff .diff-del")).to_contain_text("-beta")
    expect(edit.locator(".tool-diff .diff-add")).to_contain_text("+gamma")
    assert target.read_text() == "alpha\ngamma\n"
    screenshot(page, "03-chat-edits")


def test_on_a_phone_nothing_overflows_and_the_composer_is_reachable(
    new_context: NewContext, shared_session: dict[str, Any]
) -> None:
    page = signed_in(new_context, "phone")
    open_session(page, shared_session)
    expect(page.get_by_role("list", name="Messages")).to_be_visible()
    overflowing = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1
                && getComputedStyle(e).position !== 'fixed'
                && !e.closest('.xterm, .messages, pre, .code-frame, .table-wrap'))
            .map((e) => e.tagName.toLowerCase() + '.' + [...e.classList].join('.'))"""
    )
    assert overflowing == [], overflowing
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # The composer is on the screen without scrolling the page.
    expect(page.get_by_role("textbox", name="Message")).to_be_in_viewport()
    screenshot(page, "27-chat-phone")


def test_an_answer_says_when_how_long_and_how_much_and_can_be_copied(
    page: Page, shared_session: dict[str, Any], fake_llm: FakeLLM
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    fake_llm.clear()
    fake_llm.enqueue(Reply.say("The answer to copy.", first_delay=1.2))
    open_session(page, shared_session)
    new_conversation(page)
    send(page, "answer me slowly")
    answer = page.locator(".message.assistant").last
    about = answer.get_by_label("About this answer")
    expect(about).to_contain_text(
        re.compile(rf"\d+:\d+.* · \d+\.\d s · {DEFAULT_MODEL_ID} · [\d,]+ in · [\d,]+ out tokens")
    )
    took = float(re.findall(r"(\d+\.\d) s", about.inner_text())[0])
    assert took >= 1.2, about.inner_text()  # the model's delay is in the turn's duration
    answer.get_by_role("button", name="Copy the answer").click()
    expect(answer.get_by_role("status")).to_have_text("Copied the answer.")
    assert page.evaluate("navigator.clipboard.readText()") == "The answer to copy."
    screenshot(page, "28-chat-answer-footer")
