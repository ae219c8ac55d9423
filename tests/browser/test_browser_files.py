"""The files pane against the session's real oqto-files, checked on disk."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
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
    workspace_dir,
)
from tests.support.fake_llm import FakeLLM, Reply
from tests.support.server import OqtoServer


def files_pane(page: Page, session: dict[str, Any]) -> Locator:
    open_session(page, session)
    page.get_by_role("button", name="Files", exact=True).click()
    pane = page.get_by_role("region", name="Files", exact=True)
    expect(pane.get_by_role("navigation", name="Workspace files")).to_be_visible()
    return pane


def tree_item(pane: Locator, path: str) -> Locator:
    return pane.locator(f".tree-item[data-path='{path}']")


def editor(pane: Locator, name: str) -> Locator:
    """The open file's text in the editor (CodeMirror's content element)."""
    return pane.get_by_role("textbox", name=f"Contents of {name}")


def saved(pane: Locator) -> None:
    """Wait until nothing is unsaved: Save is disabled again once the write succeeded."""
    expect(pane.get_by_role("button", name="Save", exact=True)).to_be_disabled()
    expect(pane.locator(".dirty-marker")).to_have_count(0)


def line_numbers(pane: Locator) -> Locator:
    # CodeMirror keeps an invisible spacer number for the gutter's width: not a line.
    return pane.locator(".cm-lineNumbers .cm-gutterElement:visible")


def test_upload_edit_save_rename_download_delete(
    page: Page, server: OqtoServer, shared_session: dict[str, Any], tmp_path: Path
) -> None:
    root = workspace_dir(server, shared_session)
    pane = files_pane(page, shared_session)

    # Upload with the file picker.
    source = tmp_path / "notes.txt"
    source.write_text("# Notes\n\nfirst line\n")
    pane.get_by_label("Files to upload").set_input_files(str(source))
    expect(tree_item(pane, "notes.txt")).to_be_visible()
    assert (root / "notes.txt").read_text() == "# Notes\n\nfirst line\n"

    # Open in the editor, edit and save.
    tree_item(pane, "notes.txt").click()
    text = editor(pane, "notes.txt")
    expect(text).to_contain_text("first line")
    expect(pane.get_by_role("button", name="Save")).to_be_disabled()  # nothing to save yet
    text.fill("# Notes\n\nedited in the browser\n")
    expect(pane.locator(".dirty-marker")).to_have_text("● Unsaved changes")
    screenshot(page, "04-files-edit")
    pane.get_by_role("button", name="Save").click()
    saved(pane)
    expect(text).to_contain_text("edited in the browser")
    assert (root / "notes.txt").read_text() == "# Notes\n\nedited in the browser\n"

    # Someone else changes the file while it is being edited: a conflict, not a silent loss.
    text.fill("my version\n")
    (root / "notes.txt").write_text("the agent's version\n")
    pane.get_by_role("button", name="Save").click()
    conflict = pane.get_by_role("alert").filter(has_text="changed on disk")
    expect(conflict).to_be_visible()
    assert (root / "notes.txt").read_text() == "the agent's version\n"
    conflict.get_by_role("button", name="Overwrite").click()
    saved(pane)
    expect(text).to_contain_text("my version")
    assert (root / "notes.txt").read_text() == "my version\n"

    # Rename.
    pane.get_by_role("button", name="Rename").click()
    dialog = page.get_by_role("dialog", name="Rename notes.txt")
    dialog.get_by_label("New name").fill("renamed.txt")
    dialog.get_by_role("button", name="Rename").click()
    expect(tree_item(pane, "renamed.txt")).to_be_visible()
    expect(tree_item(pane, "notes.txt")).to_have_count(0)
    assert (root / "renamed.txt").read_text() == "my version\n" and not (
        root / "notes.txt"
    ).exists()

    # Download the file.
    with page.expect_download() as download:
        pane.get_by_role("link", name="Download", exact=True).click()
    assert download.value.suggested_filename == "renamed.txt"
    assert Path(download.value.path()).read_text() == "my version\n"

    # A folder, an upload into it by drag and drop, and the folder as a zip.
    pane.get_by_role("button", name="New folder").click()
    dialog = page.get_by_role("dialog", name="New folder")
    dialog.get_by_label("Folder name").fill("docs")
    dialog.get_by_role("button", name="Create").click()
    expect(tree_item(pane, "docs")).to_be_visible()
    tree_item(pane, "docs").click()
    expect(pane.locator(".files-target")).to_contain_text("/docs")
    data = page.evaluate_handle(
        """() => {
            const data = new DataTransfer();
            data.items.add(new File(["dropped!"], "dropped.txt", { type: "text/plain" }));
            return data;
        }"""
    )
    pane.locator(".files").dispatch_event("dragover", {"dataTransfer": data})
    pane.locator(".files").dispatch_event("drop", {"dataTransfer": data})
    expect(tree_item(pane, "docs/dropped.txt")).to_be_visible()
    assert (root / "docs" / "dropped.txt").read_text() == "dropped!"
    tree_item(pane, "docs").click()  # collapse; "docs" stays selected
    with page.expect_download() as download:
        pane.get_by_role("link", name="Download folder (zip)").click()
    with zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes())) as archive:
        assert archive.read("docs/dropped.txt") == b"dropped!"
    screenshot(page, "04-files")
    assert unnamed_controls(page) == []

    # Delete with confirmation (cancel first).
    tree_item(pane, "renamed.txt").click()
    pane.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog", name="Delete renamed.txt").get_by_role(
        "button", name="Cancel"
    ).click()
    assert (root / "renamed.txt").exists()
    pane.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog", name="Delete renamed.txt").get_by_role(
        "button", name="Delete"
    ).click()
    expect(tree_item(pane, "renamed.txt")).to_have_count(0)
    assert not (root / "renamed.txt").exists()


def test_previews_are_safe(page: Page, server: OqtoServer, shared_session: dict[str, Any]) -> None:
    root = workspace_dir(server, shared_session)
    # A page the agent wrote must never run as our origin: shown as text, not rendered.
    (root / "evil.html").write_text("<script>document.title='pwned'</script><b>hi</b>")
    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
        "0000000d4944415478da63f8cf00000301010018dd8db00000000049454e44ae426082"
    )
    (root / "pixel.png").write_bytes(png)
    pane = files_pane(page, shared_session)
    pane.get_by_role("button", name="Refresh").click()
    tree_item(pane, "evil.html").click()
    expect(editor(pane, "evil.html")).to_contain_text("<script>document.title")
    assert page.title() != "pwned"
    tree_item(pane, "pixel.png").click()
    image = pane.get_by_role("img", name="Preview of pixel.png")
    expect(image).to_be_visible()
    assert image.evaluate("(img) => img.complete && img.naturalWidth") == 1
    response = page.request.get(f"/api/sessions/{shared_session['id']}/files/file?path=evil.html")
    assert response.headers["content-type"].startswith("text/plain")


def agent_turn(api: httpx.Client, session: dict[str, Any], text: str) -> None:
    """One turn of the session's agent, driven through the API (the files pane is open)."""
    agent = f"/api/sessions/{session['id']}/agent"
    oc = api.post(f"{agent}/session", json={}).json()["id"]
    answered = api.post(
        f"{agent}/session/{oc}/message",
        json={"parts": [{"type": "text", "text": text}]},
        timeout=120,
    )
    assert answered.status_code == 200, answered.text


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_new_file_markdown_preview_line_numbers_and_the_folder_view(
    new_context: NewContext, server: OqtoServer, shared_session: dict[str, Any], viewport: str
) -> None:
    root = workspace_dir(server, shared_session)
    page = signed_in(new_context, viewport)
    pane = files_pane(page, shared_session)
    name = f"readme-{viewport}.md"
    pane.get_by_role("button", name="New file").click()
    dialog = page.get_by_role("dialog", name="New file")
    dialog.get_by_label("File name").fill(name)
    dialog.get_by_role("button", name="Create").click()
    expect(tree_item(pane, name)).to_be_visible()
    assert (root / name).read_text() == ""
    # The same name again is refused before anything is written.
    pane.locator(".tree-item.root").click()
    pane.get_by_role("button", name="New file").click()
    dialog.get_by_label("File name").fill(name)
    dialog.get_by_role("button", name="Create").click()
    expect(dialog).to_contain_text("That name is taken here.")
    dialog.get_by_role("button", name="Cancel").click()

    # An empty Markdown file opens in the editor (there is nothing to render yet).
    tree_item(pane, name).click()
    editor(pane, name).fill("# Read me\n\nSome *emphasis* and a list:\n\n- one\n- two\n")
    pane.get_by_role("button", name="Save").click()
    saved(pane)
    assert (root / name).read_text() == "# Read me\n\nSome *emphasis* and a list:\n\n- one\n- two\n"
    pane.get_by_role("button", name="Show preview").click()
    preview = pane.get_by_role("document", name="Preview")
    expect(preview.locator("h1")).to_have_text("Read me")
    expect(preview.locator("em")).to_have_text("emphasis")
    screenshot(page, f"23-files-markdown-{viewport}")
    pane.get_by_role("button", name="Show source").click()
    expect(editor(pane, name)).to_contain_text("# Read me")
    # Highlighted as Markdown: the heading's text (its "#" is marked up apart).
    expect(editor(pane, name).locator(".tok-heading:not(.tok-meta)")).to_have_text(" Read me")
    # Six lines and the empty one after the last newline, as editors show it.
    expect(line_numbers(pane)).to_have_text([str(n) for n in range(1, 8)])

    # The workspace folder: its entries with sizes and dates, folders first.
    pane.locator(".tree-item.root").click()
    table = pane.get_by_role("table", name="Contents of / (workspace)")
    row = table.get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text(f"{(root / name).stat().st_size} B")
    expect(row.locator("td").nth(2)).not_to_have_text("—")
    screenshot(page, f"24-files-folder-{viewport}")
    row.get_by_role("button", name=name).click()
    expect(pane.get_by_role("document", name="Preview")).to_be_visible()


def test_the_tree_and_an_open_file_follow_the_agents_edits(
    page: Page,
    server: OqtoServer,
    api: httpx.Client,
    shared_session: dict[str, Any],
    fake_llm: FakeLLM,
) -> None:
    root = workspace_dir(server, shared_session)
    watched = root / "watched.txt"
    watched.write_text("before\n")
    pane = files_pane(page, shared_session)
    tree_item(pane, "watched.txt").click()
    contents = editor(pane, "watched.txt")
    lines = contents.locator(".cm-line")  # the exact text, line by line
    expect(lines).to_have_text(["before", ""])

    # The agent writes a new file and rewrites the open one: no Refresh needed.
    fake_llm.clear()
    fake_llm.enqueue(
        Reply.tool("write", {"filePath": str(root / "made-by-agent.txt"), "content": "new\n"}),
        Reply.tool("write", {"filePath": str(watched), "content": "after the agent\n"}),
        Reply.say("Done."),
    )
    agent_turn(api, shared_session, "write two files")
    expect(tree_item(pane, "made-by-agent.txt")).to_be_visible()
    expect(lines).to_have_text(["after the agent", ""])

    # While the person has unsaved edits, a change by the agent is announced, not applied.
    contents.fill("my draft\n")
    expect(pane.locator(".dirty-marker")).to_be_visible()
    fake_llm.enqueue(
        Reply.tool("write", {"filePath": str(watched), "content": "the agent again\n"}),
        Reply.say("Done again."),
    )
    agent_turn(api, shared_session, "write it again")
    warning = pane.get_by_role("alert").filter(has_text="was changed on disk")
    expect(warning).to_be_visible()
    expect(lines).to_have_text(["my draft", ""])
    screenshot(page, "25-files-changed-on-disk")
    warning.get_by_role("button", name="Discard my edits and reload").click()
    expect(lines).to_have_text(["the agent again", ""])
    expect(pane.locator(".dirty-marker")).to_have_count(0)


def choose_theme(page: Page, viewport: str, theme: str) -> None:
    """Pick the app's theme in the sidebar (behind the Menu button on a phone)."""
    menu = page.get_by_role("button", name="Menu")
    if viewport == "phone":
        menu.click()
    page.get_by_label("Theme").select_option(theme)
    if viewport == "phone":
        menu.click()


def colours(text: Locator) -> dict[str, str]:
    """The editor's background and a keyword's colour, as the browser computed them."""
    return text.evaluate(
        """(content) => ({
            background: getComputedStyle(content.closest('.cm-editor')).backgroundColor,
            keyword: getComputedStyle(content.querySelector('.tok-keyword')).color,
            text: getComputedStyle(content).color,
        })"""
    )


def brightness(rgb: str) -> int:
    return sum(int(part) for part in rgb.removeprefix("rgb(").rstrip(")").split(",")[:3])


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_editor_highlights_searches_saves_with_the_keyboard_and_follows_the_theme(
    new_context: NewContext, server: OqtoServer, shared_session: dict[str, Any], viewport: str
) -> None:
    root = workspace_dir(server, shared_session)
    name = f"greet_{viewport}.py"
    original = 'def greet(name):\n    # say hello\n    return "hello " + name\n'
    (root / name).write_text(original)
    page = signed_in(new_context, viewport)
    choose_theme(page, viewport, "light")
    pane = files_pane(page, shared_session)
    pane.get_by_role("button", name="Refresh").click()
    tree_item(pane, name).click()
    text = editor(pane, name)

    # Python, highlighted by CodeMirror's token classes; a number for every line.
    expect(text.locator(".tok-keyword")).to_have_text(["def", "return"])
    expect(text.locator(".tok-comment")).to_have_text("# say hello")
    expect(text.locator(".tok-string")).to_have_text('"hello "')
    expect(text.locator(".tok-definition")).to_have_text("greet")
    expect(line_numbers(pane)).to_have_text(["1", "2", "3", "4"])
    light = colours(text)
    assert light["keyword"] != light["text"]  # the classes are styled, not just present

    # Ctrl/Cmd-F: CodeMirror's search, finding both occurrences.
    text.click()
    page.keyboard.press("ControlOrMeta+f")
    find = pane.get_by_role("textbox", name="Find")
    expect(find).to_be_focused()
    find.press_sequentially("hello")  # typed: the panel takes the query on each key
    find.press("Enter")
    expect(text.locator(".cm-searchMatch")).to_have_count(2)
    expect(text.locator(".cm-searchMatch-selected")).to_have_text("hello")
    expect(pane.locator(".cm-line.cm-activeLine")).to_contain_text("# say hello")  # moved there
    screenshot(page, f"26-files-editor-search-{viewport}")
    find.press("Escape")
    expect(find).to_have_count(0)
    expect(text).to_be_focused()

    # Typing makes it dirty; Ctrl/Cmd-S saves it to disk.
    page.keyboard.press("ControlOrMeta+End")
    page.keyboard.type("print(greet('you'))")
    expect(pane.locator(".dirty-marker")).to_be_visible()
    page.keyboard.press("ControlOrMeta+s")
    saved(pane)
    assert (root / name).read_text() == original + "print(greet('you'))"

    # Undo and redo: the unsaved state follows the text, not the keystrokes.
    page.keyboard.press("ControlOrMeta+z")
    expect(pane.locator(".dirty-marker")).to_be_visible()
    expect(text).not_to_contain_text("print(greet")
    page.keyboard.press("ControlOrMeta+Shift+z")
    expect(text).to_contain_text("print(greet('you'))")
    expect(pane.locator(".dirty-marker")).to_have_count(0)

    # Revert drops unsaved edits and touches nothing on disk.
    page.keyboard.type("  # scratch")
    pane.get_by_role("button", name="Revert").click()
    expect(text).not_to_contain_text("scratch")
    expect(pane.locator(".dirty-marker")).to_have_count(0)
    assert (root / name).read_text() == original + "print(greet('you'))"

    # The app's theme switch recolours the editor: background and tokens.
    choose_theme(page, viewport, "dark")
    expect(text.locator(".tok-keyword").first).not_to_have_css("color", light["keyword"])
    dark = colours(text)
    assert brightness(dark["background"]) < 200 < 500 < brightness(light["background"])
    assert dark["keyword"] != light["keyword"] and dark["keyword"] != dark["text"]
    screenshot(page, f"27-files-editor-dark-{viewport}")
    choose_theme(page, viewport, "system")


def test_names_that_are_not_utf8_are_counted_not_fatal(
    page: Page, server: OqtoServer, shared_session: dict[str, Any]
) -> None:
    root = workspace_dir(server, shared_session)
    bad = os.path.join(os.fsencode(root), b"latin-1 caf\xe9.txt")
    with open(bad, "wb") as f:
        f.write(b"from an old tarball\n")
    try:
        (root / "listed-beside-it.txt").write_text("fine\n")
        pane = files_pane(page, shared_session)
        expect(tree_item(pane, "listed-beside-it.txt")).to_be_visible()
        expect(pane.locator(".tree-unlisted")).to_have_text(
            "1 entry not shown: names that are not valid UTF-8 (rename them in the terminal)"
        )
    finally:
        os.unlink(bad)


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_text_too_long_to_edit_is_shown_read_only(
    new_context: NewContext, server: OqtoServer, shared_session: dict[str, Any], viewport: str
) -> None:
    root = workspace_dir(server, shared_session)
    name = f"big-{viewport}.log"
    (root / name).write_text("a line of a long log\n" * 10_000)  # 210,000 characters
    page = signed_in(new_context, viewport)
    pane = files_pane(page, shared_session)
    pane.get_by_role("button", name="Refresh").click()
    tree_item(pane, name).click()
    text = editor(pane, name)
    expect(text).to_have_attribute("aria-readonly", "true")
    expect(pane.get_by_text("Read only: files over 200,000 characters")).to_be_visible()
    expect(line_numbers(pane).first).to_have_text("1")
    text.click()
    page.keyboard.type("typed")
    expect(pane.locator(".dirty-marker")).to_have_count(0)
    expect(text).not_to_contain_text("typed")
    expect(pane.get_by_role("button", name="Save")).to_be_disabled()
    screenshot(page, f"28-files-read-only-{viewport}")
    (root / name).unlink()
