from __future__ import annotations

import os
import secrets
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from oqto.config import ConfigError
from oqto.config.paths import default_runtime_dir
from oqto.osutil import acl
from oqto.osutil.runtime_dir import RuntimeDirError, ensure_private_dir, ensure_runtime_dir

# No account is needed: the kernel happily chowns to any uid.
UID, GID = 54321, 54322

pytestmark = pytest.mark.usefixtures("needs_root")


def owner_and_mode(path: Path) -> tuple[int, int, int]:
    st = os.lstat(path)
    return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)


@pytest.fixture
def base(public_dir: Path) -> Path:
    return public_dir / "run" / "user"


def test_creates_base_and_private_dir(base: Path) -> None:
    old_umask = os.umask(0o077)  # must not leak into the base's mode
    try:
        path = ensure_runtime_dir(UID, GID, base=base)
    finally:
        os.umask(old_umask)
    assert path == base / str(UID)
    assert owner_and_mode(path) == (UID, GID, 0o700)
    assert owner_and_mode(base) == (0, 0, 0o755)


def test_is_idempotent(base: Path) -> None:
    first = ensure_runtime_dir(UID, GID, base=base)
    (first / "keep").touch()
    assert ensure_runtime_dir(UID, GID, base=base) == first
    assert (first / "keep").exists()
    assert owner_and_mode(first) == (UID, GID, 0o700)


@pytest.mark.parametrize("bad_mode", [0o755, 0o770, 0o1700, 0o500])
def test_fixes_mode_and_group_of_existing_dir(base: Path, bad_mode: int) -> None:
    path = base / str(UID)
    path.mkdir(parents=True)
    os.chown(path, UID, 0)
    path.chmod(bad_mode)
    ensure_runtime_dir(UID, GID, base=base)
    assert owner_and_mode(path) == (UID, GID, 0o700)


def test_keeps_the_acl_mask_granted_to_the_service_account(base: Path) -> None:
    path = ensure_runtime_dir(UID, GID, base=base)
    acl.grant_user(path, 4242, "x")
    assert owner_and_mode(path)[2] == 0o710
    path.chmod(0o717)  # other bits still get fixed

    ensure_runtime_dir(UID, GID, base=base)

    # chmod 0700 would have zeroed the mask and cut the service account off.
    assert owner_and_mode(path) == (UID, GID, 0o710)
    assert acl.AclEntry(acl.AclTag.USER, 4242, 1) in acl.read_acl(path)


def test_refuses_dir_owned_by_someone_else(base: Path) -> None:
    path = base / str(UID)
    path.mkdir(parents=True, mode=0o755)
    os.chown(path, UID + 1, GID)
    with pytest.raises(RuntimeDirError, match=f"owned by uid {UID + 1}"):
        ensure_runtime_dir(UID, GID, base=base)
    assert owner_and_mode(path) == (UID + 1, GID, 0o755)  # untouched


def test_refuses_symlink_even_to_a_correct_dir(base: Path, public_dir: Path) -> None:
    target = public_dir / "elsewhere"
    target.mkdir(mode=0o700)
    os.chown(target, UID, GID)
    target.chmod(0o755)
    base.mkdir(parents=True)
    (base / str(UID)).symlink_to(target)
    with pytest.raises(RuntimeDirError, match="symlink"):
        ensure_runtime_dir(UID, GID, base=base)
    assert owner_and_mode(target)[2] == 0o755  # untouched


def test_refuses_non_directory(base: Path) -> None:
    base.mkdir(parents=True)
    (base / str(UID)).touch()
    with pytest.raises(RuntimeDirError, match="not a directory"):
        ensure_runtime_dir(UID, GID, base=base)


@pytest.mark.parametrize(("owner", "mode"), [(0, 0o777), (0, 0o775), (UID, 0o755)])
def test_refuses_unsafe_base(base: Path, owner: int, mode: int) -> None:
    base.mkdir(parents=True)
    os.chown(base, owner, 0)
    base.chmod(mode)
    with pytest.raises(RuntimeDirError, match="must be owned by root"):
        ensure_runtime_dir(UID, GID, base=base)
    assert not (base / str(UID)).exists()


def test_works_on_tmpfs(tmpfs_dir: Path) -> None:
    path = ensure_runtime_dir(UID, GID, base=tmpfs_dir / "user")
    assert owner_and_mode(path) == (UID, GID, 0o700)


def test_requires_root(base: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(PermissionError):
        ensure_runtime_dir(UID, GID, base=base)
    assert not base.exists()


# -- ensure_private_dir: the directories our own account keeps its sockets in ---------

ATTACKER = 65534  # nobody


@pytest.fixture
def shared_tmp(public_dir: Path) -> Path:
    """A world-writable sticky directory, like /tmp."""
    path = public_dir / "tmp"
    path.mkdir()
    path.chmod(0o1777)
    return path


def test_private_dir_is_created_0700_whatever_the_umask(shared_tmp: Path) -> None:
    old_umask = os.umask(0)
    try:
        path = ensure_private_dir(shared_tmp / "oqto-0")
    finally:
        os.umask(old_umask)
    assert owner_and_mode(path) == (os.geteuid(), os.getegid(), 0o700)
    assert ensure_private_dir(path) == path  # and adopted the next time


@pytest.mark.parametrize("mode", [0o700, 0o777, 0o755])
def test_private_dir_pre_created_by_another_account_is_refused(shared_tmp: Path, mode: int) -> None:
    path = shared_tmp / "oqto-0"
    path.mkdir()
    os.chown(path, ATTACKER, ATTACKER)
    path.chmod(mode)
    with pytest.raises(RuntimeDirError, match=f"{path} exists but is owned by uid {ATTACKER}"):
        ensure_private_dir(path)
    assert owner_and_mode(path) == (ATTACKER, ATTACKER, mode)  # not taken over


@pytest.mark.parametrize("owner", ["us", "attacker"])
def test_private_dir_that_is_a_symlink_is_refused(
    shared_tmp: Path, public_dir: Path, owner: str
) -> None:
    target = public_dir / "target"
    target.mkdir(mode=0o700)
    if owner == "attacker":
        os.chown(target, ATTACKER, ATTACKER)
    link = shared_tmp / "oqto-0"
    link.symlink_to(target)
    os.chown(link, ATTACKER, ATTACKER, follow_symlinks=False)
    with pytest.raises(RuntimeDirError, match=f"{link} is a symlink"):
        ensure_private_dir(link)
    assert link.is_symlink()
    assert owner_and_mode(target)[2] == 0o700
    assert list(target.iterdir()) == []


@pytest.mark.parametrize("mode", [0o755, 0o770, 0o701, 0o1777])
def test_own_private_dir_with_loose_mode_is_refused_unchanged(shared_tmp: Path, mode: int) -> None:
    path = shared_tmp / "oqto-0"
    path.mkdir()
    path.chmod(mode)
    with pytest.raises(RuntimeDirError, match=f"mode {stat.S_IMODE(mode):04o}"):
        ensure_private_dir(path)
    assert owner_and_mode(path)[2] == stat.S_IMODE(mode)


def test_own_private_dir_with_an_acl_mask_is_adopted(shared_tmp: Path) -> None:
    # Group bits that are the mask of our own ACL (an older runner granted the service
    # account "x") are not access for the group.
    path = ensure_private_dir(shared_tmp / "oqto-0")
    acl.grant_user(path, 4242, "x")
    assert ensure_private_dir(path) == path
    assert owner_and_mode(path)[2] == 0o710


def test_private_dir_that_is_a_file_is_refused(shared_tmp: Path) -> None:
    (shared_tmp / "oqto-0").write_text("x")
    with pytest.raises(RuntimeDirError, match="is not a directory"):
        ensure_private_dir(shared_tmp / "oqto-0")


def test_private_dir_in_a_non_sticky_shared_parent_is_refused(public_dir: Path) -> None:
    parent = public_dir / "open"
    parent.mkdir()
    parent.chmod(0o777)
    with pytest.raises(RuntimeDirError, match="writable by other accounts and not sticky"):
        ensure_private_dir(parent / "oqto-0")
    assert list(parent.iterdir()) == []


@pytest.fixture
def fallback(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The real /tmp/oqto-<uid> fallback, under a uid nobody has (only its name uses it)."""
    fake_uid = 4_000_000_000 + secrets.randbelow(1_000_000)
    monkeypatch.setattr(os, "getuid", lambda: fake_uid)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    path = Path(f"/tmp/oqto-{fake_uid}")
    yield path
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def test_fallback_runtime_dir_pre_created_by_another_account(fallback: Path) -> None:
    fallback.mkdir()
    fallback.chmod(0o777)
    os.chown(fallback, ATTACKER, ATTACKER)
    with pytest.raises(ConfigError) as info:
        default_runtime_dir()
    assert "XDG_RUNTIME_DIR is unset" in str(info.value)
    assert f"{fallback} exists but is owned by uid {ATTACKER}" in str(info.value)
    assert owner_and_mode(fallback) == (ATTACKER, ATTACKER, 0o777)


def test_fallback_runtime_dir_planted_as_a_symlink(fallback: Path, public_dir: Path) -> None:
    fallback.symlink_to(public_dir)
    with pytest.raises(ConfigError, match=f"{fallback} is a symlink"):
        default_runtime_dir()
    assert owner_and_mode(public_dir)[2] == 0o755


def test_fallback_runtime_dir_is_created_private(fallback: Path) -> None:
    assert default_runtime_dir() == fallback
    assert owner_and_mode(fallback) == (os.geteuid(), os.getegid(), 0o700)
