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

__all__ = [
    "RUNTIME_DIR_MODE",
    "RuntimeDirError",
    "ensure_private_dir",
    "ensure_runtime_dir",
    "user_runtime_dir",
]

USER_RUNTIME_BASE = Path("/run/user")
RUNTIME_DIR_MODE = 0o700
_BASE_MODE = 0o755  # what systemd uses for /run/user
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_PATH_FLAGS = os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC


def user_runtime_dir(uid: int) -> Path:
    """Where logind (or `ensure_runtime_dir`) keeps `uid`'s XDG_RUNTIME_DIR."""
    return USER_RUNTIME_BASE / str(uid)


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


def ensure_runtime_dir(uid: int, gid: int, base: Path = USER_RUNTIME_BASE) -> Path:
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


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` with mode 0700, or adopt an existing one only if it is safe.

    For the directories our own account keeps its sockets in (``[local] socket_dir``,
    ``$XDG_RUNTIME_DIR/oqto``, the ``/tmp/oqto-<uid>`` fallback). In a shared
    directory such as /tmp another account can create that name first, as a directory
    or a symlink; adopting it would put our sockets where they can reach or replace
    them. So an existing entry must be a real directory (checked through an
    O_NOFOLLOW descriptor, not by name), owned by our effective uid, without
    permissions for others, and without group permissions unless they are the mask of
    an extended ACL (which only its owner, i.e. we, or root can have set). An entry
    failing this is refused with RuntimeDirError and left exactly as it is: nothing
    is chmod'ed or chown'ed. The parent must not let others rename our directory away
    (group/other-writable without the sticky bit).
    """
    path = Path(os.path.abspath(path))
    uid = os.geteuid()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=RUNTIME_DIR_MODE)
        parent_fd = os.open(path.parent, _PATH_FLAGS)
    except OSError as exc:
        raise RuntimeDirError(f"{path}: cannot use its parent directory: {exc.strerror}") from None
    try:
        _check_parent(os.fstat(parent_fd), path.parent)
        created = _mkdir_at(parent_fd, path.name)
        try:
            fd = os.open(path.name, _PATH_FLAGS | os.O_NOFOLLOW, dir_fd=parent_fd)
        except OSError as exc:
            if exc.errno not in (errno.ENOTDIR, errno.ELOOP):
                raise RuntimeDirError(f"{path}: cannot open: {exc.strerror}") from None
            kind = os.lstat(path.name, dir_fd=parent_fd).st_mode
            what = "a symlink" if stat.S_ISLNK(kind) else "not a directory"
            raise RuntimeDirError(f"{path} is {what}; refusing to use it") from None
        try:
            st = os.fstat(fd)
            if created:
                # mkdir's mode went through the umask; "." reopens the very directory
                # we made (an O_PATH descriptor cannot be chmod'ed itself).
                own = os.open(".", _DIR_FLAGS, dir_fd=fd)
                try:
                    os.fchmod(own, RUNTIME_DIR_MODE)
                finally:
                    os.close(own)
            else:
                _check_adoptable(st, path, uid)
        finally:
            os.close(fd)
    finally:
        os.close(parent_fd)
    return path


def _check_parent(st: os.stat_result, parent: Path) -> None:
    if st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX:
        raise RuntimeDirError(
            f"{parent} is writable by other accounts and not sticky (mode "
            f"{stat.S_IMODE(st.st_mode):04o}): they could replace a directory in it"
        )


def _check_adoptable(st: os.stat_result, path: Path, uid: int) -> None:
    hint = "remove it, or choose another directory ([local] socket_dir, XDG_RUNTIME_DIR)"
    if st.st_uid != uid:
        raise RuntimeDirError(
            f"{path} exists but is owned by uid {st.st_uid}, not by us (uid {uid}); "
            f"refusing to use it: {hint}"
        )
    mode = stat.S_IMODE(st.st_mode)
    others = mode & 0o007 or (mode & 0o070 and not has_extended_acl(path))
    if others:
        raise RuntimeDirError(
            f"{path} has mode {mode:04o}, but must be accessible to its owner only "
            f"(0700); refusing to use it: {hint}"
        )
