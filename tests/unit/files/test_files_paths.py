import errno
import os
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oqto.files import beneath
from oqto.files.beneath import EscapesRoot, open_beneath
from oqto.files.errors import WorkspaceError
from oqto.files.paths import MAX_NAME_BYTES, normalize_rel, sanitize_filename, split_rel
from oqto.files.workspace import WorkspaceFS
from oqto.protocol.errors import ErrorCode


def error_code(exc: pytest.ExceptionInfo[WorkspaceError]) -> ErrorCode:
    return exc.value.code


def where(root: Path, rel: str, flags: int = os.O_PATH) -> Path:
    """Open `rel` beneath `root` and report where the descriptor really points."""
    root_fd = os.open(root, os.O_PATH | os.O_DIRECTORY)
    try:
        fd = open_beneath(root_fd, rel, flags)
    finally:
        os.close(root_fd)
    try:
        return Path(os.readlink(f"/proc/self/fd/{fd}"))
    finally:
        os.close(fd)


both_resolvers = pytest.mark.usefixtures("resolver")


@both_resolvers
@pytest.mark.parametrize("rel", ["", ".", "./", "a/..b/."])
def test_root_and_dotted_spellings_resolve_inside(root: Path, rel: str) -> None:
    (root / "a" / "..b").mkdir(parents=True)
    assert where(root, normalize_rel(rel)).is_relative_to(root.resolve())


@pytest.mark.parametrize(
    "rel",
    [
        "..",
        "../outside/secret.txt",
        "a/../../outside",
        "a/..",
        "/etc/passwd",
        "//etc/passwd",
        "a\x00b",
    ],
)
def test_traversal_spellings_are_rejected(rel: str) -> None:
    with pytest.raises(WorkspaceError) as exc:
        split_rel(rel)
    assert error_code(exc) == ErrorCode.INVALID_PATH


@both_resolvers
def test_missing_target_is_not_found(root: Path) -> None:
    with pytest.raises(FileNotFoundError):
        where(root, "new/file.txt")


@both_resolvers
@pytest.mark.parametrize(
    ("rel", "flags"),
    [
        ("escape", os.O_PATH),
        ("escape/secret.txt", os.O_RDONLY),
        ("escape/new/deeper", os.O_PATH),
        ("dangling", os.O_WRONLY | os.O_CREAT),
        ("relative_escape/secret.txt", os.O_RDONLY),
        ("relative_dangling", os.O_WRONLY | os.O_CREAT),
    ],
)
def test_symlinks_leaving_root_are_refused(root: Path, outside: Path, rel: str, flags: int) -> None:
    (root / "escape").symlink_to(outside)
    (root / "dangling").symlink_to(outside / "does-not-exist-yet")
    (root / "relative_escape").symlink_to(Path("..") / outside.name)
    (root / "relative_dangling").symlink_to(Path("..") / outside.name / "planted")
    with pytest.raises(EscapesRoot):
        where(root, rel, flags)
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


@both_resolvers
def test_outside_root_wins_over_not_found(root: Path, outside: Path) -> None:
    # Existence outside the root must not be observable.
    (root / "escape").symlink_to(outside)
    with pytest.raises(EscapesRoot):
        where(root, "escape/nope")


@both_resolvers
def test_without_following_the_link_names_itself(root: Path, outside: Path) -> None:
    (root / "escape").symlink_to(outside)
    assert where(root, "escape", os.O_PATH | os.O_NOFOLLOW) == root.resolve() / "escape"


@both_resolvers
def test_internal_symlinks_resolve_to_their_target(root: Path) -> None:
    (root / "real" / "sub").mkdir(parents=True)
    (root / "real" / "f.txt").write_text("x")
    (root / "alias").symlink_to("real")
    (root / "real" / "sub" / "up").symlink_to("../f.txt")
    assert where(root, "alias/f.txt") == root / "real" / "f.txt"
    assert where(root, "alias/sub/up", os.O_RDONLY) == root / "real" / "f.txt"


@both_resolvers
def test_absolute_symlinks_are_refused_even_into_the_root(root: Path) -> None:
    # Their meaning depends on where the root is mounted (a sandbox may move it), so
    # only relative links are followed, by openat2 and the fallback walk alike.
    (root / "f.txt").write_text("x")
    (root / "abs").symlink_to(root / "f.txt")
    with pytest.raises(EscapesRoot):
        where(root, "abs")


@both_resolvers
def test_symlink_loops_stop(root: Path) -> None:
    (root / "loop").symlink_to("loop")
    with pytest.raises(OSError) as exc:
        where(root, "loop/x")
    assert exc.value.errno == errno.ELOOP


def test_root_given_through_a_symlink_is_canonicalised(tmp_path: Path, root: Path) -> None:
    (root / "f.txt").write_text("x")
    link = tmp_path / "root-link"
    link.symlink_to(root)
    fs = WorkspaceFS(link)
    assert fs.root == root.resolve()
    assert fs.stat("f.txt")["size"] == 1


def test_normalize_rel() -> None:
    assert normalize_rel("") == ""
    assert normalize_rel("./a//b/./c/") == "a/b/c"


@given(st.lists(st.sampled_from(["a", "b.c", "", ".", "..", "...", " ", "\\", "%2e"]), max_size=6))
def test_split_rel_splits_as_posix_paths_do(pieces: list[str]) -> None:
    """split_rel is hand-written for speed; pathlib is the reference for its components."""
    rel = "/".join(pieces)
    pure = PurePosixPath(rel)
    if pure.is_absolute() or ".." in pure.parts:
        with pytest.raises(WorkspaceError) as refused:
            split_rel(rel)
        assert error_code(refused) is ErrorCode.INVALID_PATH
    else:
        assert split_rel(rel) == pure.parts


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


@both_resolvers
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.sampled_from(["a", "b", "out", "up", "upup", "abs", "loop", "x", ".", "", ".."]),
        max_size=8,
    ),
    st.booleans(),
)
def test_resolution_never_leaves_root(maze: Path, parts: list[str], follow: bool) -> None:
    # Raw paths, ".." included: the kernel (or the walk) must confine them by itself.
    flags = os.O_PATH if follow else os.O_PATH | os.O_NOFOLLOW
    try:
        resolved = where(maze, "/".join(parts), flags)
    except EscapesRoot:
        return
    except OSError as exc:
        assert exc.errno in {errno.ENOENT, errno.ELOOP, errno.ENOTDIR}
        return
    canonical_root = maze.resolve()
    # Without following, the last component may be the link itself, pointing anywhere.
    assert resolved == canonical_root or resolved.parent.is_relative_to(canonical_root)
    if follow:
        assert resolved.is_relative_to(canonical_root)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.sampled_from(["a", "b", "out", "up", "upup", "abs", "loop", "x", ".", "", ".."]),
        max_size=8,
    ),
    st.booleans(),
)
def test_walk_and_openat2_agree(maze: Path, parts: list[str], follow: bool) -> None:
    """The fallback must accept and refuse exactly what the kernel does."""
    if not beneath.openat2_available():
        pytest.skip("kernel without openat2")
    flags = os.O_PATH if follow else os.O_PATH | os.O_NOFOLLOW
    outcomes = []
    for kernel in (True, False):
        beneath.use_openat2(kernel)
        try:
            outcomes.append(str(where(maze, "/".join(parts), flags)))
        except EscapesRoot:
            outcomes.append("escapes")
        except OSError as exc:
            outcomes.append(errno.errorcode[exc.errno or 0])
        finally:
            beneath.use_openat2(None)
    assert outcomes[0] == outcomes[1]
