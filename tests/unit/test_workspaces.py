import ctypes
import os
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from oqto.protocol.sessions import WorkspaceNameError, check_workspace_name
from oqto.userplane.base import UserPlaneError
from oqto.userplane.workspaces import ensure_workspace, workspace_root


@pytest.mark.parametrize("name", ["proj", "team/proj", "a b", "x_1.2-3"])
def test_good_names(name: str) -> None:
    assert check_workspace_name(name) == name


@pytest.mark.parametrize(
    "name", ["", "/", "/etc", "..", "a/../b", ".hidden", "-rf", "a/./b", "a\0b", "a/b/c/d/e", "x."]
)
def test_bad_names(name: str) -> None:
    with pytest.raises(WorkspaceNameError):
        check_workspace_name(name)


def test_workspace_created_under_root(tmp_path: Path) -> None:
    root = workspace_root(str(tmp_path / "ws" / "{user}"), "alice")
    path = ensure_workspace(root, "team/proj")
    assert path == (tmp_path / "ws" / "alice" / "team" / "proj").resolve()
    assert path.is_dir()


def test_symlinked_workspace_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "evil").symlink_to(outside)
    with pytest.raises(UserPlaneError, match="symlink"):
        ensure_workspace(root, "evil")
    with pytest.raises(UserPlaneError, match="symlink"):
        ensure_workspace(root, "evil/inner")
    assert not (outside / "inner").exists()


def test_workspace_creation_never_follows_a_swapped_component(tmp_path: Path) -> None:
    """A racer flips `team` between a directory and a symlink out of the root."""
    root = tmp_path / "root"
    (root / "team").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "swap").symlink_to(outside)
    libc = ctypes.CDLL(None, use_errno=True)
    stop = threading.Event()

    def racer() -> None:
        a, b = os.fsencode(root / "team"), os.fsencode(root / "swap")
        while not stop.is_set():
            assert libc.renameat2(-100, a, -100, b, 2) == 0  # RENAME_EXCHANGE

    thread = threading.Thread(target=racer, daemon=True)
    thread.start()
    outcomes: Counter[str] = Counter()
    deadline = time.monotonic() + 1.5
    try:
        while time.monotonic() < deadline and (i := sum(outcomes.values())) < 5_000:
            try:
                ensure_workspace(root, f"team/p{i}")  # a new name: mkdir each time
            except UserPlaneError:
                outcomes["refused"] += 1
            else:
                outcomes["made"] += 1
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert list(outside.iterdir()) == [], outcomes
    assert outcomes["made"] > 0 and outcomes["refused"] > 0, outcomes
