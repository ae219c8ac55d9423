"""A chat turn's details against the session's real opencode and the fake model: file
edits as diffs and the turn's changed files, tool cards, copying a code block,
`@`-mentioning a workspace file, and conversation titles."""

from __future__ import annotations

import json
import re
import threading
import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from tests.browser.helpers import (
    NewContext,
    new_conversation,
    open_session,
    screenshot,
    send,
    signed_in,
    unnamed_controls,
    workspace_dir,
)
from tests.support.fake_llm import FakeLLM, Reply
from tests.support.server import OqtoServer

VIEWPORTS = ["desktop", "phone"]
# The diff counts use a real minus sign (U+2212), as typography wants.
MINUS = "\u2212"


def current_title(page: Page, viewport: str) -> Any:
    """The open conversation's name as the list (desktop) or the menu (phone) shows it."""
    if viewport == "phone":
        return page.get_by_label("Conversation").locator("option:checked")
    return page.locator(".conversation-list button[aria-current='true']")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_an_edit_shows_its_diff_and_the_turn_lists_the_files_it_changed(
    new_context: NewContext,
    server: OqtoServer,
    shared_session: dict[str, Any],
    fake_llm: FakeLLM,
    viewport: str,
) -> None:
    tag = f"{viewport}-{uuid.uuid4().hex[:6]}"
    workspace = workspace_dir(server, shared_session)
    notes = workspace / f"notes-{tag}.txt"
    notes.write_text("alpha\nbeta\nomega\n")
    long_file = workspace / f"long-{tag}.txt"
    long_text = "".join(f"line {i}\n" for i in range(1, 21))
    fake_llm.clear()
    fake_llm.enqueue(
        Reply.tool(
            "edit", {"filePath": str(notes), "oldString": "beta", "newString": "gamma\ndelta"}
        ),
        Reply.tool("write", {"filePath": str(long_file), "content": long_text}),
        Reply.say("Edited both files."),
    )
    page = signed_in(new_context, viewport)
    open_session(page, shared_session)
    new_conversation(page)
    send(page, f"edit the notes {tag}")
    messages = page.get_by_role("list", name="Messages")
    expect(messages).to_contain_text("Edited both files.")
    assert notes.read_text() == "alpha\ngamma\ndelta\nomega\n"

    # The edit's card: a summary line (chevron, tool and path, counts, status, duration)
    # and its diff below it, without opening the card.
    edit = messages.locator(".tool[data-tool='edit']")
    summary = edit.locator("summary")
    expect(summary.locator(".tool-chevron")).to_have_count(1)
    expect(summary.locator(".tool-name")).to_have_text(f"edit {notes}")
    expect(summary.locator(".tool-summary")).to_have_text(f"+2 {MINUS}1")
    expect(summary.locator(".badge")).to_have_text("Finished")
    expect(summary.locator(".tool-duration")).to_have_text(re.compile(r"^\d+ ms$|^\d+\.\d s$"))
    diff = edit.locator(".diff-view")
    expect(diff.locator(".diff-path")).to_have_text(notes.name)
    expect(diff.locator(".diff-del")).to_have_text(["-beta"])
    expect(diff.locator(".diff-add")).to_have_text(["+gamma", "+delta"])
    expect(diff.locator(".diff-context")).to_have_text([" alpha", " omega"])
    # Opening the card shows what went in and what came out.
    expect(edit.locator(".tool-input")).not_to_be_visible()
    summary.click()
    expect(edit.locator(".tool-input")).to_contain_text('"oldString": "beta"')
    expect(edit.locator(".tool-output")).to_contain_text("Edit applied successfully.")

    # A 20-line new file: folded after a few lines until asked.
    write = messages.locator(".tool[data-tool='write']")
    expect(write.locator(".tool-summary")).to_have_text(f"+20 {MINUS}0")
    expect(write.locator(".diff-add")).to_have_count(8)
    write.get_by_role("button", name=f"Show all 20 lines of {long_file.name}").click()
    expect(write.locator(".diff-add")).to_have_count(20)
    expect(write.locator(".diff-add").last).to_have_text("+line 20")

    # The turn's files, each with its counts; a click opens its diff.
    files = messages.get_by_role("listitem", name="2 files changed")
    expect(files.locator(".turn-file")).to_have_count(2)
    notes_entry = files.locator(f"li[data-file='{notes.name}']")
    expect(notes_entry.locator(".diff-counts")).to_have_text(f"+2 {MINUS}1")
    expect(files.locator(f"li[data-file='{long_file.name}'] .diff-counts")).to_have_text(
        f"+20 {MINUS}0"
    )
    expect(notes_entry.locator(".diff-view")).to_have_count(0)
    notes_entry.get_by_role("button", name=re.compile(notes.name)).click()
    expect(notes_entry.get_by_role("button", name=re.compile(notes.name))).to_have_attribute(
        "aria-expanded", "true"
    )
    expect(notes_entry.locator(".diff-del")).to_have_text(["-beta"])
    expect(notes_entry.locator(".diff-add")).to_have_text(["+gamma", "+delta"])
    files.scroll_into_view_if_needed()
    screenshot(page, f"40-chat-diffs-{viewport}")
    assert unnamed_controls(page) == []
    # On a phone the diffs scroll inside themselves, the page does not.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_code_block_can_be_copied(
    new_context: NewContext, shared_session: dict[str, Any], fake_llm: FakeLLM, viewport: str
) -> None:
    marker = uuid.uuid4().hex[:8]
    code = f"def copied():\n    return '{marker}'"
    fake_llm.clear()
    fake_llm.enqueue(
        Reply.say(f"Two blocks:\n\n```python\n{code}\n```\n\nand\n\n```\nsecond {marker}\n```\n")
    )
    page = signed_in(new_context, viewport)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_session(page, shared_session)
    new_conversation(page)
    send(page, f"show me code {viewport}")
    answer = page.locator(".message.assistant").last
    expect(answer.locator("pre code")).to_have_count(2)
    # Copying takes the text, not the highlighting's markup (the unlabelled block is
    # left plain).
    expect(answer.locator("pre code.hljs")).to_have_count(1)
    buttons = answer.get_by_role("button", name="Copy the code")
    expect(buttons).to_have_count(2)
    buttons.first.click()
    expect(buttons.first).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == code
    buttons.last.click()
    expect(buttons.last).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == f"second {marker}"
    # The whole answer's Copy is still there, and copies the Markdown.
    answer.get_by_role("button", name="Copy the answer").click()
    expect(answer.get_by_role("status")).to_have_text("Copied the answer.")
    assert f"```python\n{code}\n```" in page.evaluate("navigator.clipboard.readText()")
    answer.locator(".code-block").first.scroll_into_view_if_needed()
    screenshot(page, f"41-chat-code-copy-{viewport}")


def _request_text(body: dict[str, Any]) -> str:
    return json.dumps(body.get("messages", []))


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_an_at_mention_attaches_a_workspace_file_that_reaches_the_model(
    new_context: NewContext,
    server: OqtoServer,
    shared_session: dict[str, Any],
    fake_llm: FakeLLM,
    viewport: str,
) -> None:
    marker = uuid.uuid4().hex[:10]
    name = f"mention-{viewport}-{marker[:4]}.txt"
    (workspace_dir(server, shared_session) / "docs").mkdir(exist_ok=True)
    (workspace_dir(server, shared_session) / "docs" / name).write_text(f"the secret is {marker}\n")
    fake_llm.clear()
    page = signed_in(new_context, viewport)
    open_session(page, shared_session)
    new_conversation(page)
    box = page.get_by_role("textbox", name="Message")
    box.fill("what does ")
    box.press_sequentially(f"@mention-{viewport}-{marker[:4]}")
    picker = page.get_by_role("listbox", name="Workspace files")
    option = picker.get_by_role("option", name=f"docs/{name}")
    expect(option).to_be_visible()
    screenshot(page, f"42-chat-mention-picker-{viewport}")
    box.press("Enter")  # chooses the highlighted file, does not send
    expect(picker).to_have_count(0)
    expect(box).to_have_value(f"what does @docs/{name} ")
    chips = page.get_by_role("list", name="Files to attach")
    expect(chips).to_have_text(re.compile(f"docs/{re.escape(name)}"))
    box.press_sequentially("say?")
    page.get_by_role("button", name="Send").click()

    user = page.locator(".message.user").last
    expect(user.locator(".user-text")).to_have_text(f"what does @docs/{name} say?")
    expect(user.get_by_role("list", name="Attached files")).to_have_text(f"docs/{name}")
    expect(chips).to_have_count(0)
    expect(page.locator(".message.assistant").last).to_contain_text("FAKE-REPLY")
    request = fake_llm.agent_requests()[-1]
    # opencode read the file and gave the model its content.
    assert marker in _request_text(request), _request_text(request)[-2000:]
    screenshot(page, f"43-chat-mention-sent-{viewport}")


def test_the_mention_picker_is_keyboard_driven_and_a_chip_can_be_removed(
    page: Page, server: OqtoServer, shared_session: dict[str, Any], fake_llm: FakeLLM
) -> None:
    stem = f"kb-{uuid.uuid4().hex[:6]}"
    for suffix in ("a", "b"):
        (workspace_dir(server, shared_session) / f"{stem}-{suffix}.md").write_text(suffix)
    fake_llm.clear()
    open_session(page, shared_session)
    new_conversation(page)
    box = page.get_by_role("textbox", name="Message")
    box.press_sequentially(f"@{stem}")
    picker = page.get_by_role("listbox", name="Workspace files")
    expect(picker.get_by_role("option")).to_have_count(2)
    expect(picker.get_by_role("option", selected=True)).to_have_count(1)
    first = picker.get_by_role("option", selected=True).inner_text()
    box.press("ArrowDown")
    second = picker.get_by_role("option", selected=True)
    expect(second).not_to_have_text(first)
    chosen = second.inner_text()
    box.press("Tab")
    expect(box).to_have_value(f"@{chosen} ")
    # Escape closes the picker and keeps the text as typed.
    box.press_sequentially("@zzz-no-such-file")
    expect(picker).to_contain_text("No matching files")
    box.press("Escape")
    expect(picker).to_have_count(0)
    expect(box).to_have_value(f"@{chosen} @zzz-no-such-file")
    page.get_by_role("button", name=f"Remove {chosen}").click()
    expect(page.get_by_role("list", name="Files to attach")).to_have_count(0)
    send(page, "no file after all")
    expect(page.locator(".message.assistant").last).to_contain_text("FAKE-REPLY: no file")
    assert stem not in _request_text(fake_llm.agent_requests()[-1]).replace("no file after all", "")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_new_conversation_is_named_by_its_prompt_then_by_the_generated_title(
    new_context: NewContext,
    shared_session: dict[str, Any],
    fake_llm: FakeLLM,
    viewport: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    marker = uuid.uuid4().hex[:6]
    generated = f"Migration plan {marker}"
    # Hold the model's answer to opencode's title request until the test lets it go,
    # so the name before the title is seen.
    gate = threading.Event()
    reply_for = fake_llm._reply_for

    def title_held(kind: str, body: dict[str, Any]) -> Reply:
        if kind == "title":
            return Reply.say(generated, chunk_size=4, gate=gate)
        return reply_for(kind, body)

    monkeypatch.setattr(fake_llm, "_reply_for", title_held)
    fake_llm.clear()
    try:
        page = signed_in(new_context, viewport)
        open_session(page, shared_session)
        new_conversation(page)
        title = current_title(page, viewport)
        expect(title).to_have_text(re.compile(r"^New conversation · (just now|\d+ min ago)$"))
        prompt = f"Plan the {marker} database migration"
        send(page, prompt)
        expect(page.locator(".message.assistant").last).to_contain_text(f"FAKE-REPLY: {prompt}")
        fake_llm.wait_for_requests(1, kind="title")
        expect(title).to_have_text(prompt)
        screenshot(page, f"44-chat-title-pending-{viewport}")
        gate.set()
        expect(title).to_have_text(generated)
        # Whatever opencode named it meanwhile, no conversation shows its raw timestamp.
        names = page.locator(".conversation-list button, .conversation-picker option")
        assert not any(re.search(r"\d{4}-\d\d-\d\dT", n) for n in names.all_inner_texts())
        screenshot(page, f"45-chat-title-{viewport}")
    finally:
        gate.set()
