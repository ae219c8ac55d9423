from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from oqto.osutil import acl
from oqto.osutil.runtime_dir import RuntimeDirError, ensure_runtime_dir

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
