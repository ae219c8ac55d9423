"""Turning a workspace name into a directory, confined to the owner's workspace root."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path, PurePosixPath

from oqto.protocol.errors import ErrorCode
from oqto.protocol.sessions import WorkspaceNameError, check_workspace_name
from oqto.userplane.base import UserPlaneError

_DIR_FLAGS = os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC


def workspace_root(template: str, owner: str, home: Path | None = None) -> Path:
    """`{user}` is the platform user; `~` is `home`, by default the running account's."""
    path = template.replace("{user}", owner)
    if home is not None and (path == "~" or path.startswith("~/")):
        return home / path[2:]
    return Path(os.path.expanduser(path))


def ensure_workspace(root: Path, name: str) -> Path:
    """Create `root/name` if missing and return it; refuse a name or a symlink that leads
    out of the root.

    Each level is made with mkdir relative to the descriptor of the level above and
    then opened with O_NOFOLLOW, so a component swapped for a symlink at any moment is
    refused instead of followed: nothing is ever created outside the root.
    """
    try:
        name = check_workspace_name(name)
    except WorkspaceNameError as exc:
        raise UserPlaneError(ErrorCode.INVALID_WORKSPACE, str(exc)) from None
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    real_root = root.resolve(strict=True)
    fd = os.open(real_root, _DIR_FLAGS)
    try:
        for part in PurePosixPath(name).parts:
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, 0o700, dir_fd=fd)
            try:
                child = os.open(part, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
            except OSError as exc:
                if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise
                is_link = stat.S_ISLNK(os.stat(part, dir_fd=fd, follow_symlinks=False).st_mode)
                problem = "passes through a symlink" if is_link else "is not a directory"
                raise UserPlaneError(
                    ErrorCode.INVALID_WORKSPACE, f"workspace path {name!r} {problem}"
                ) from None
            os.close(fd)
            fd = child
    finally:
        os.close(fd)
    return real_root / name
