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
