import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oqto.files.errors import ErrorCode, WorkspaceError
from oqto.files.paths import (
    MAX_NAME_BYTES,
    normalize_rel,
    resolve_in_root,
    sanitize_filename,
)


def error_code(exc: pytest.ExceptionInfo[WorkspaceError]) -> ErrorCode:
    return exc.value.code


@pytest.mark.parametrize("rel", ["", ".", "./", "a/..b/."])
def test_root_and_dotted_spellings_resolve_inside(root: Path, rel: str) -> None:
    (root / "a" / "..b").mkdir(parents=True)
    resolved = resolve_in_root(root, rel, must_exist=True)
    assert resolved.is_relative_to(root.resolve())


@pytest.mark.parametrize(
    ("rel", "code"),
    [
        ("..", ErrorCode.INVALID_PATH),
        ("../outside/secret.txt", ErrorCode.INVALID_PATH),
        ("a/../../outside", ErrorCode.INVALID_PATH),
        ("a/..", ErrorCode.INVALID_PATH),
        ("/etc/passwd", ErrorCode.INVALID_PATH),
        ("//etc/passwd", ErrorCode.INVALID_PATH),
        ("a\x00b", ErrorCode.INVALID_PATH),
    ],
)
def test_traversal_spellings_are_rejected(root: Path, rel: str, code: ErrorCode) -> None:
    with pytest.raises(WorkspaceError) as exc:
        resolve_in_root(root, rel, must_exist=False)
    assert error_code(exc) == code


def test_missing_target_reported_only_when_required(root: Path) -> None:
    assert resolve_in_root(root, "new/file.txt", must_exist=False) == root / "new" / "file.txt"
    with pytest.raises(WorkspaceError) as exc:
        resolve_in_root(root, "new/file.txt", must_exist=True)
    assert error_code(exc) == ErrorCode.NOT_FOUND


@pytest.mark.parametrize("rel", ["escape", "escape/secret.txt", "escape/new/deeper", "dangling"])
def test_symlinks_leaving_root_are_refused(root: Path, outside: Path, rel: str) -> None:
    (root / "escape").symlink_to(outside)
    (root / "dangling").symlink_to(outside / "does-not-exist-yet")
    with pytest.raises(WorkspaceError) as exc:
        resolve_in_root(root, rel, must_exist=False)
    assert error_code(exc) == ErrorCode.OUTSIDE_ROOT


def test_outside_root_wins_over_not_found(root: Path, outside: Path) -> None:
    # Existence outside the root must not be observable.
    (root / "escape").symlink_to(outside)
    with pytest.raises(WorkspaceError) as exc:
        resolve_in_root(root, "escape/nope", must_exist=True)
    assert error_code(exc) == ErrorCode.OUTSIDE_ROOT


def test_without_following_the_link_names_itself(root: Path, outside: Path) -> None:
    (root / "escape").symlink_to(outside)
    resolved = resolve_in_root(root, "escape", must_exist=True, follow_symlinks=False)
    assert resolved == root.resolve() / "escape"
    assert resolved.is_symlink()


def test_internal_symlinks_resolve_to_their_target(root: Path) -> None:
    (root / "real").mkdir()
    (root / "real" / "f.txt").write_text("x")
    (root / "alias").symlink_to("real")
    assert resolve_in_root(root, "alias/f.txt", must_exist=True) == root / "real" / "f.txt"


def test_root_given_through_a_symlink_is_canonicalised(tmp_path: Path, root: Path) -> None:
    (root / "f.txt").write_text("x")
    link = tmp_path / "root-link"
    link.symlink_to(root)
    assert resolve_in_root(link, "f.txt", must_exist=True) == root / "f.txt"


def test_normalize_rel() -> None:
    assert normalize_rel("") == ""
    assert normalize_rel("./a//b/./c/") == "a/b/c"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "....etcpasswd"),
        ("C:\\Users\\me\\x.txt", "CUsersmex.txt"),
        ('a<b>c:d"e|f?g*h', "abcdefgh"),
        ("tab\there\x00nul\x7f", "tabherenul"),
        ("  spaced name . . ", "spaced name"),
        (".env", ".env"),
        ("evil\u202egnp.exe", "evilgnp.exe"),
        ("cafe\u0301.txt", "caf\u00e9.txt"),
    ],
)
def test_sanitize_filename(raw: str, clean: str) -> None:
    assert sanitize_filename(raw) == clean


@pytest.mark.parametrize("raw", ["", "   ", ".", "..", "...", "/", "\x00\x01", "<>|"])
def test_sanitize_filename_rejects_empty_results(raw: str) -> None:
    with pytest.raises(WorkspaceError) as exc:
        sanitize_filename(raw)
    assert error_code(exc) == ErrorCode.INVALID_PATH


def test_sanitize_filename_caps_bytes_and_keeps_extension() -> None:
    name = sanitize_filename("\u00e9" * 300 + ".tar")
    assert len(name.encode()) <= MAX_NAME_BYTES
    assert name.endswith(".tar")
    name.encode().decode()  # no split multibyte character


@given(st.text(min_size=1, max_size=400))
def test_sanitized_names_are_single_safe_components(raw: str) -> None:
    try:
        name = sanitize_filename(raw)
    except WorkspaceError:
        return
    assert name not in {".", ".."}
    assert not any(ch in name for ch in '/\\:*?"<>|\x00')
    assert len(name.encode()) <= MAX_NAME_BYTES
    assert os.path.basename(name) == name


@pytest.fixture(scope="module")
def maze(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root with links in every direction, shared by the property test below."""
    base = tmp_path_factory.mktemp("maze")
    root = base / "root"
    (root / "a" / "b").mkdir(parents=True)
    (base / "outside").mkdir()
    (root / "out").symlink_to(base / "outside")
    (root / "a" / "up").symlink_to("..")
    (root / "a" / "b" / "upup").symlink_to("../../..")
    (root / "a" / "abs").symlink_to("/")
    (root / "loop").symlink_to("loop")
    return root


@given(
    st.lists(
        st.sampled_from(["a", "b", "out", "up", "upup", "abs", "loop", "x", ".", "", ".."]),
        max_size=8,
    ),
    st.booleans(),
)
def test_resolution_never_leaves_root(maze: Path, parts: list[str], follow: bool) -> None:
    try:
        resolved = resolve_in_root(maze, "/".join(parts), must_exist=False, follow_symlinks=follow)
    except WorkspaceError as exc:
        assert exc.code in {ErrorCode.INVALID_PATH, ErrorCode.OUTSIDE_ROOT}
        return
    canonical_root = maze.resolve()
    if resolved == canonical_root:
        return
    # Without following, the last component is the link itself and may point anywhere.
    target = resolved if follow else resolved.parent
    assert Path(os.path.realpath(target)).is_relative_to(canonical_root)
