"""Turning a workspace name into a directory, confined to the owner's workspace root."""

from __future__ import annotations

import os
from pathlib import Path

from oqto.protocol.sessions import WorkspaceNameError, check_workspace_name
from oqto.userplane.base import UserPlaneError


def workspace_root(template: str, owner: str) -> Path:
    return Path(os.path.expanduser(template.replace("{user}", owner)))


def ensure_workspace(root: Path, name: str) -> Path:
    """Create `root/name` if missing and return it; refuse a name or a symlink that leads
    out of the root."""
    try:
        name = check_workspace_name(name)
    except WorkspaceNameError as exc:
        raise UserPlaneError("invalid_workspace", str(exc)) from None
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    real_root = root.resolve(strict=True)
    target = real_root / name
    current = real_root
    for part in Path(name).parts:
        current = current / part
        if current.is_symlink():
            raise UserPlaneError(
                "invalid_workspace", f"workspace path {name!r} passes through a symlink"
            )
        current.mkdir(exist_ok=True, mode=0o700)
    if not target.resolve(strict=True).is_relative_to(real_root):
        raise UserPlaneError("invalid_workspace", f"workspace {name!r} leaves the root")
    return target
