"""The files pane against the session's real oqto-files, checked on disk."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect
from tests.browser.helpers import open_session, screenshot, unnamed_controls, workspace_dir
from tests.support.server import OqtoServer


def files_pane(page: Page, session: dict[str, Any]) -> Locator:
    open_session(page, session)
    page.get_by_role("button", name="Files", exact=True).click()
    pane = page.get_by_role("region", name="Files", exact=True)
    expect(pane.get_by_role("navigation", name="Workspace files")).to_be_visible()
    return pane


def tree_item(pane: Locator, path: str) -> Locator:
    return pane.locator(f".tree-item[data-path='{path}']")


def test_upload_edit_save_rename_download_delete(
    page: Page, server: OqtoServer, shared_session: dict[str, Any], tmp_path: Path
) -> None:
    root = workspace_dir(server, shared_session)
    pane = files_pane(page, shared_session)

    # Upload with the file picker.
    source = tmp_path / "notes.md"
    source.write_text("# Notes\n\nfirst line\n")
    pane.get_by_label("Files to upload").set_input_files(str(source))
    expect(tree_item(pane, "notes.md")).to_be_visible()
    assert (root / "notes.md").read_text() == "# Notes\n\nfirst line\n"

    # Preview, then edit and save.
    tree_item(pane, "notes.md").click()
    viewer = pane.locator(".viewer")
    expect(viewer.get_by_label("File contents")).to_contain_text("first line")
    pane.get_by_role("button", name="Edit").click()
    editor = pane.get_by_role("textbox", name="Contents of notes.md")
    editor.fill("# Notes\n\nedited in the browser\n")
    screenshot(page, "04-files-edit")
    pane.get_by_role("button", name="Save").click()
    expect(viewer.get_by_label("File contents")).to_contain_text("edited in the browser")
    assert (root / "notes.md").read_text() == "# Notes\n\nedited in the browser\n"

    # Someone else changes the file while it is being edited: a conflict, not a silent loss.
    pane.get_by_role("button", name="Edit").click()
    editor.fill("my version\n")
    (root / "notes.md").write_text("the agent's version\n")
    pane.get_by_role("button", name="Save").click()
    conflict = pane.get_by_role("alert").filter(has_text="changed on disk")
    expect(conflict).to_be_visible()
    assert (root / "notes.md").read_text() == "the agent's version\n"
    conflict.get_by_role("button", name="Overwrite").click()
    expect(viewer.get_by_label("File contents")).to_contain_text("my version")
    assert (root / "notes.md").read_text() == "my version\n"

    # Rename.
    pane.get_by_role("button", name="Rename").click()
    dialog = page.get_by_role("dialog", name="Rename notes.md")
    dialog.get_by_label("New name").fill("renamed.md")
    dialog.get_by_role("button", name="Rename").click()
    expect(tree_item(pane, "renamed.md")).to_be_visible()
    expect(tree_item(pane, "notes.md")).to_have_count(0)
    assert (root / "renamed.md").read_text() == "my version\n" and not (root / "notes.md").exists()

    # Download the file.
    with page.expect_download() as download:
        pane.get_by_role("link", name="Download", exact=True).click()
    assert download.value.suggested_filename == "renamed.md"
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
    tree_item(pane, "renamed.md").click()
    pane.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog", name="Delete renamed.md").get_by_role(
        "button", name="Cancel"
    ).click()
    assert (root / "renamed.md").exists()
    pane.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog", name="Delete renamed.md").get_by_role(
        "button", name="Delete"
    ).click()
    expect(tree_item(pane, "renamed.md")).to_have_count(0)
    assert not (root / "renamed.md").exists()


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
    expect(pane.get_by_label("File contents")).to_contain_text("<script>document.title")
    assert page.title() != "pwned"
    tree_item(pane, "pixel.png").click()
    image = pane.get_by_role("img", name="Preview of pixel.png")
    expect(image).to_be_visible()
    assert image.evaluate("(img) => img.complete && img.naturalWidth") == 1
    response = page.request.get(f"/api/sessions/{shared_session['id']}/files/file?path=evil.html")
    assert response.headers["content-type"].startswith("text/plain")
