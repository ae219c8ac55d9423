"""Create ``/run/user/<uid>`` the way systemd-logind does, for hosts without logind.

Each runner listens on ``$XDG_RUNTIME_DIR/oqto-runner.sock``; the privacy of
that socket rests on the directory being 0700 and owned by the user. logind
mounts a fresh tmpfs there on first login; containers and minimal VMs have no
logind, so provisioning (running as root) creates a plain directory with the
same owner and mode instead. It is not a separate tmpfs, so it has no size
limit of its own and is not wiped on logout.

Every step works relative to an open descriptor of the base directory and
never follows a symlink, and the base itself must be root-owned and not
writable by anyone else, so no other account can redirect the chown/chmod.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from oqto.osutil.acl import has_extended_acl

__all__ = ["RUNTIME_DIR_MODE", "RuntimeDirError", "ensure_runtime_dir"]

RUNTIME_DIR_MODE = 0o700
_BASE_MODE = 0o755  # what systemd uses for /run/user
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


class RuntimeDirError(Exception):
    """The runtime directory (or its base) exists in a state we must not adopt."""


def _ensure_base(base: Path) -> None:
    if not base.exists():
        base.mkdir(mode=_BASE_MODE, parents=True, exist_ok=True)
        os.chmod(base, _BASE_MODE)  # mkdir's mode is filtered by the umask
    st = os.stat(base)
    if not stat.S_ISDIR(st.st_mode):
        raise RuntimeDirError(f"{base} is not a directory")
    if st.st_uid != 0 or st.st_mode & 0o022:
        # Anyone who can write to the base could swap the per-user directory.
        raise RuntimeDirError(
            f"{base} must be owned by root and not group/other-writable "
            f"(owner uid {st.st_uid}, mode {stat.S_IMODE(st.st_mode):04o})"
        )


def _mkdir_at(base_fd: int, name: str) -> bool:
    """mkdir relative to ``base_fd``; True if we created it."""
    try:
        os.mkdir(name, RUNTIME_DIR_MODE, dir_fd=base_fd)
    except FileExistsError:
        return False
    return True


def _open_dir_nofollow(base_fd: int, name: str, path: Path) -> int:
    st = os.lstat(name, dir_fd=base_fd)
    if stat.S_ISLNK(st.st_mode):
        raise RuntimeDirError(f"{path} is a symlink; refusing to use it as a runtime dir")
    if not stat.S_ISDIR(st.st_mode):
        raise RuntimeDirError(f"{path} exists and is not a directory")
    try:
        return os.open(name, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=base_fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise RuntimeDirError(f"{path} changed type while being opened") from exc
        raise


def _wanted_mode(path: Path, current: int) -> int:
    # With an extended ACL the group bits are the ACL mask (e.g. the runner
    # granted the service account "x", showing as 0710). Forcing 0700 would
    # zero the mask and silently cut the service account off, so keep them.
    if current & 0o070 and has_extended_acl(path):
        return RUNTIME_DIR_MODE | (current & 0o070)
    return RUNTIME_DIR_MODE


def _fix_existing(fd: int, path: Path, uid: int, gid: int) -> None:
    st = os.fstat(fd)
    if st.st_uid != uid:
        raise RuntimeDirError(
            f"{path} exists but is owned by uid {st.st_uid}, not {uid}; refusing to adopt it"
        )
    if st.st_gid != gid:
        os.fchown(fd, -1, gid)
    current = stat.S_IMODE(st.st_mode)
    wanted = _wanted_mode(path, current)
    if current != wanted:
        os.fchmod(fd, wanted)


def ensure_runtime_dir(uid: int, gid: int, base: Path = Path("/run/user")) -> Path:
    """Create (or verify and repair the mode of) ``base/<uid>``, owned ``uid:gid``, 0700.

    Creates ``base`` (0755, root) if missing. Raises :class:`RuntimeDirError`
    if the directory is a symlink, not a directory, or owned by another uid,
    and PermissionError when not running as root. Returns the directory path.
    """
    if os.geteuid() != 0:
        raise PermissionError("ensure_runtime_dir must run as root")
    if uid < 0 or gid < 0:
        raise ValueError(f"invalid uid/gid {uid}:{gid}")
    _ensure_base(base)
    name = str(uid)
    path = base / name
    base_fd = os.open(base, _DIR_FLAGS)
    try:
        created = _mkdir_at(base_fd, name)
        fd = _open_dir_nofollow(base_fd, name, path)
        try:
            if created:
                os.fchown(fd, uid, gid)
                os.fchmod(fd, RUNTIME_DIR_MODE)
            else:
                _fix_existing(fd, path, uid, gid)
        finally:
            os.close(fd)
    finally:
        os.close(base_fd)
    return path
