"""Library-level behaviour of WorkspaceFS that HTTP cannot observe directly."""

import io
import os
import stat
import time
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from oqto.files.atomic import TEMP_PREFIX
from oqto.files.entries import entries_of, make_entry
from oqto.files.errors import WorkspaceError
from oqto.files.limits import FileLimits
from oqto.files.workspace import WorkspaceFS
from oqto.protocol.errors import ErrorCode

pytestmark = pytest.mark.anyio


async def chunks(*parts: bytes, fail_after: int | None = None) -> AsyncIterator[bytes]:
    for i, part in enumerate(parts):
        if fail_after is not None and i == fail_after:
            raise RuntimeError("client went away")
        yield part


def leftovers(root: Path) -> list[Path]:
    return list(root.rglob(f"{TEMP_PREFIX}*"))


async def test_write_failure_keeps_old_content_and_no_temp(root: Path) -> None:
    (root / "f.txt").write_text("old")
    fs = WorkspaceFS(root)
    with pytest.raises(RuntimeError):
        await fs.write_stream("f.txt", chunks(b"new", b"more", fail_after=1))
    assert (root / "f.txt").read_text() == "old"
    assert leftovers(root) == []


async def test_write_over_limit_keeps_old_content(root: Path) -> None:
    (root / "f.txt").write_text("old")
    fs = WorkspaceFS(root)
    with pytest.raises(WorkspaceError) as exc:
        await fs.write_stream("f.txt", chunks(b"x" * 10, b"y" * 10), max_bytes=15)
    assert exc.value.code == ErrorCode.TOO_LARGE
    assert (root / "f.txt").read_text() == "old"
    assert leftovers(root) == []


async def test_write_replaces_atomically_and_keeps_mode(root: Path) -> None:
    target = root / "run.sh"
    target.write_text("echo old")
    target.chmod(0o750)
    old_inode = target.stat().st_ino
    fs = WorkspaceFS(root)
    entry, created = await fs.write_stream("run.sh", chunks(b"echo ", b"new"))
    assert not created
    assert target.read_text() == "echo new"
    assert target.stat().st_ino != old_inode  # replaced by rename, never rewritten in place
    assert stat.S_IMODE(target.stat().st_mode) == 0o750
    assert entry["size"] == 8
    assert entry["etag"]


async def test_new_file_mode_follows_umask(root: Path) -> None:
    fs = WorkspaceFS(root)
    previous = os.umask(0o022)
    try:
        await fs.write_stream("new.txt", chunks(b"x"))
    finally:
        os.umask(previous)
    assert stat.S_IMODE((root / "new.txt").stat().st_mode) == 0o644


def test_tree_depth_order_and_hidden(root: Path) -> None:
    (root / "b_dir" / "inner").mkdir(parents=True)
    (root / "b_dir" / "inner" / "deep.txt").write_text("d")
    (root / "a_dir").mkdir()
    (root / "z.txt").write_text("z")
    (root / "a.txt").write_text("a")
    (root / ".hidden").write_text("h")
    fs = WorkspaceFS(root)

    listing = fs.tree("", depth=1)
    assert [e["name"] for e in listing["entries"]] == [
        "a_dir",
        "b_dir",
        ".hidden",
        "a.txt",
        "z.txt",
    ]
    assert all("children" not in e for e in listing["entries"])

    visible = fs.tree("", depth=1, show_hidden=False)
    assert ".hidden" not in [e["name"] for e in visible["entries"]]

    deep = fs.tree("", depth=3)
    b_dir = next(e for e in deep["entries"] if e["name"] == "b_dir")
    inner = b_dir["children"][0]
    assert inner["path"] == "b_dir/inner"
    assert inner["children"][0]["path"] == "b_dir/inner/deep.txt"
    a_dir = next(e for e in deep["entries"] if e["name"] == "a_dir")
    assert a_dir["children"] == []


def test_tree_truncates_breadth_first(root: Path) -> None:
    for d in ("d1", "d2"):
        (root / d).mkdir()
        for i in range(5):
            (root / d / f"f{i}").write_text("x")
    fs = WorkspaceFS(root, FileLimits(max_tree_entries=4))
    listing = fs.tree("", depth=2)
    assert listing["truncated"]
    d1, d2 = listing["entries"]
    assert [e["name"] for e in d1["children"]] == ["f0", "f1"]
    assert "children" not in d2  # never listed, so not shown as empty


@pytest.mark.parametrize("limit", [5, 10])
def test_tree_keeps_the_first_entries_of_a_directory_over_the_limit(root: Path, limit: int) -> None:
    for name in ("c", "a", "b"):
        (root / f"dir_{name}").mkdir()
    for i in (6, 0, 3, 1, 5, 2, 4):
        (root / f"file{i}").write_text("x")
    listing = WorkspaceFS(root, FileLimits(max_tree_entries=limit)).tree("")
    everything = ["dir_a", "dir_b", "dir_c", *(f"file{i}" for i in range(7))]
    # Folders first, then by name, cut at the limit: the same order as the whole listing.
    assert [e["name"] for e in listing["entries"]] == everything[:limit]
    assert listing["truncated"] is (limit < len(everything))


def test_tree_directory_reached_with_no_budget_left_is_not_shown_empty(root: Path) -> None:
    (root / "d1").mkdir()
    (root / "d1" / "f").write_text("x")
    (root / "d2").mkdir()
    (root / "d2" / "g").write_text("x")
    listing = WorkspaceFS(root, FileLimits(max_tree_entries=3)).tree("", depth=2)
    assert listing["truncated"]
    d1, d2 = listing["entries"]
    assert [e["name"] for e in d1["children"]] == ["f"]
    assert "children" not in d2


def test_tree_depth_is_capped(root: Path) -> None:
    path = root
    for i in range(5):
        path = path / f"d{i}"
    path.mkdir(parents=True)
    fs = WorkspaceFS(root, FileLimits(max_depth=2))
    listing = fs.tree("", depth=100)
    assert "children" not in listing["entries"][0]["children"][0]


def test_tree_reports_symlinks_and_special_files_without_following(
    root: Path, outside: Path
) -> None:
    (root / "escape").symlink_to(outside)
    os.mkfifo(root / "pipe")
    fs = WorkspaceFS(root)
    entries = {e["name"]: e for e in fs.tree("", depth=5)["entries"]}
    assert entries["escape"]["type"] == "symlink"
    assert "children" not in entries["escape"]
    assert entries["pipe"]["type"] == "other"


def test_stat_describes_the_link_or_its_target(root: Path, outside: Path) -> None:
    (root / "f.txt").write_text("abc")
    (root / "link").symlink_to("f.txt")
    (root / "escape").symlink_to(outside)
    fs = WorkspaceFS(root)
    assert fs.stat("link")["type"] == "symlink"
    followed = fs.stat("link", follow_symlinks=True)
    assert (followed["type"], followed["size"], followed["path"]) == ("file", 3, "link")
    assert fs.stat("escape")["type"] == "symlink"  # describing the link itself is harmless
    with pytest.raises(WorkspaceError) as exc:
        fs.stat("escape", follow_symlinks=True)
    assert exc.value.code == ErrorCode.OUTSIDE_ROOT


def test_fifo_is_not_opened_for_reading(root: Path) -> None:
    os.mkfifo(root / "pipe")
    with pytest.raises(WorkspaceError) as exc:
        WorkspaceFS(root).open_file("pipe")
    assert exc.value.code == ErrorCode.NOT_A_FILE


def test_zip_is_generated_lazily(root: Path) -> None:
    (root / "big").mkdir()
    for i in range(4):
        (root / "big" / f"{i}.bin").write_bytes(os.urandom(256 * 1024))
    stream = WorkspaceFS(root).zip_stream(["big"])
    first = next(stream)
    assert len(first) < 256 * 1024  # a local header, not the archive
    data = first + b"".join(stream)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None
        assert sorted(zf.namelist()) == ["big/", "big/0.bin", "big/1.bin", "big/2.bin", "big/3.bin"]


def test_delete_symlink_removes_only_the_link(root: Path, outside: Path) -> None:
    (root / "escape").symlink_to(outside)
    WorkspaceFS(root).delete("escape")
    assert not (root / "escape").is_symlink()
    assert (outside / "secret.txt").read_text() == "top secret"


def test_delete_tree_does_not_follow_inner_symlinks(root: Path, outside: Path) -> None:
    (root / "d").mkdir()
    (root / "d" / "escape").symlink_to(outside)
    WorkspaceFS(root).delete("d")
    assert not (root / "d").exists()
    assert (outside / "secret.txt").exists()


@pytest.mark.parametrize("rel", ["", ".", "./"])
def test_root_cannot_be_deleted_or_renamed(root: Path, rel: str) -> None:
    fs = WorkspaceFS(root)
    with pytest.raises(WorkspaceError) as exc:
        fs.delete(rel)
    assert exc.value.code == ErrorCode.FORBIDDEN
    with pytest.raises(WorkspaceError) as exc:
        fs.rename(rel, "elsewhere")
    assert exc.value.code == ErrorCode.FORBIDDEN
    assert root.is_dir()


def test_root_must_be_a_directory(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError):
        WorkspaceFS(tmp_path / "file")
    with pytest.raises(FileNotFoundError):
        WorkspaceFS(tmp_path / "missing")


def test_zip_keeps_mode_and_mtime(root: Path) -> None:
    (root / "bin").mkdir()
    script = root / "bin" / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    os.utime(script, (1_700_000_000, 1_700_000_000))
    data = b"".join(WorkspaceFS(root).zip_stream(["bin"]))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo("bin/run.sh")
        assert stat.S_IMODE(info.external_attr >> 16) == 0o755
        assert info.date_time[:3] == (2023, 11, 14)
        assert zf.getinfo("bin/").is_dir()
        assert zf.read("bin/run.sh") == b"#!/bin/sh\n"


def test_zip_entry_swapped_for_a_symlink_after_planning_is_skipped(
    root: Path, outside: Path
) -> None:
    (root / "d").mkdir()
    (root / "d" / "a.txt").write_text("keep")
    (root / "d" / "b.txt").write_text("planned")
    stream = WorkspaceFS(root).zip_stream(["d"])  # planned, nothing streamed yet
    (root / "d" / "b.txt").unlink()
    (root / "d" / "b.txt").symlink_to(outside / "secret.txt")
    data = b"".join(stream)
    assert b"top secret" not in data
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert sorted(zf.namelist()) == ["d/", "d/a.txt"]


def test_zip_reads_a_grown_file_only_up_to_its_planned_size(root: Path) -> None:
    (root / "log").write_bytes(b"x" * 10)
    stream = WorkspaceFS(root, FileLimits(max_zip_bytes=10)).zip_stream(["log"])
    (root / "log").write_bytes(b"x" * 10_000)
    with zipfile.ZipFile(io.BytesIO(b"".join(stream))) as zf:
        assert zf.read("log") == b"x" * 10


def test_root_is_pinned_when_opened(tmp_path: Path, root: Path, outside: Path) -> None:
    (root / "f.txt").write_text("inside")
    fs = WorkspaceFS(root)
    # Replacing the root's path with a link elsewhere does not redirect the server.
    root.rename(tmp_path / "moved")
    root.symlink_to(outside)
    assert fs.open_file("f.txt").read() == b"inside"
    with pytest.raises(WorkspaceError) as exc:
        fs.open_file("secret.txt")
    assert exc.value.code == ErrorCode.NOT_FOUND
    fs.close()


async def test_write_through_an_internal_link_with_dotdot(root: Path) -> None:
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "target.txt").write_text("old")
    (root / "a" / "b" / "link").symlink_to("../target.txt")
    await WorkspaceFS(root).write_stream("a/b/link", chunks(b"new"))
    assert (root / "a" / "target.txt").read_text() == "new"
    assert (root / "a" / "b" / "link").is_symlink()


def test_tree_of_a_large_directory_stays_fast(root: Path) -> None:
    for i in range(1000):
        (root / f"f{i:04}").write_bytes(b"")
    fs = WorkspaceFS(root)
    started = time.monotonic()
    listing = fs.tree("")
    elapsed = time.monotonic() - started
    assert len(listing["entries"]) == 1000 and not listing["truncated"]
    # ~20 ms here; a lookup from the root per entry or a quadratic step would show.
    assert elapsed < 2.0, elapsed


def test_listed_entries_are_described_as_single_ones(root: Path) -> None:
    """entries_of writes out make_entry's dicts for speed: they must stay the same."""
    (root / "f.txt").write_text("hello")
    (root / "d").mkdir()
    (root / "link").symlink_to("f.txt")
    os.mkfifo(root / "fifo")
    with os.scandir(root) as it:
        found = sorted(it, key=lambda de: de.name)
        listed = entries_of("sub/", found)
    assert [e["name"] for e in listed] == ["d", "f.txt", "fifo", "link"]
    for entry in listed:
        alone = make_entry(f"sub/{entry['name']}", os.lstat(root / entry["name"]))
        assert entry == alone
    assert {e["type"] for e in listed} == {"dir", "file", "other", "symlink"}
