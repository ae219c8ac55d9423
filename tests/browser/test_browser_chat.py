"""The chat pane against the session's real opencode, answering from the fake model."""

from __future__ import annotations

import threading
import uuid
from typing import Any

from playwright.sync_api import Page, expect
from tests.browser.helpers import open_session, screenshot, unnamed_controls, workspace_dir
from tests.support.fake_llm import FakeLLM, Reply
from tests.support.server import OqtoServer


def new_conversation(page: Page) -> None:
    page.get_by_role("button", name="New chat").click()
    expect(page.get_by_role("list", name="Messages")).to_contain_text("No messages yet")


def send(page: Page, text: str) -> None:
    page.get_by_role("textbox", name="Message").fill(text)
    page.get_by_role("button", name="Send").click()


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


def test_the_chat_survives_a_reload_and_picks_the_model(
    page: Page, shared_session: dict[str, Any], fake_llm: FakeLLM
) -> None:
    fake_llm.clear()
    open_session(page, shared_session)
    new_conversation(page)
    expect(page.get_by_label("Model")).to_have_value("fakellm/fake-model")
    send(page, "remember me")
    expect(page.locator(".message.assistant").last).to_contain_text("FAKE-REPLY: remember me")
    page.reload()
    # The most recent conversation is reopened from the server, answer included.
    expect(page.locator(".message.assistant").last).to_contain_text("FAKE-REPLY: remember me")
    body = fake_llm.agent_requests()[-1]
    assert body["model"] == "fake-model"


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
