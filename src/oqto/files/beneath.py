"""Open paths beneath a directory descriptor so that no lookup can leave it, even mid-race.

Checking a resolved path and then opening it by name is racy: a directory swapped for
a symlink in between redirects the open. Here the lookup itself is confined, so there
is no gap between check and use:

- Linux >= 5.6: openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS. The kernel
  refuses absolute paths, absolute symlinks and any ".." that climbs above the
  directory (EXDEV), consistently with concurrent renames (EAGAIN, retried).
- Elsewhere (ENOSYS, or a seccomp filter answering EPERM): a walk that opens one
  component at a time relative to the previous directory's descriptor, with
  O_NOFOLLOW, reading and interpreting each symlink itself.

Both follow symlinks that stay beneath the root, relative ones only (an absolute link
is refused even if it names a place inside the root: its meaning depends on where the
root is mounted), so the two implementations accept exactly the same paths.
"""

import contextlib
import ctypes
import errno
import os
import stat
import weakref
from collections import deque
from pathlib import Path

_SYS_OPENAT2 = 437  # the same number on every Linux architecture (new syscall table)
_RESOLVE_NO_MAGICLINKS = 0x02
_RESOLVE_BENEATH = 0x08
# A racing rename makes openat2 answer EAGAIN; after this many the walk takes over.
_EAGAIN_RETRIES = 32
# Linux's own limit on symlinks followed during one lookup.
_MAX_SYMLINKS = 40
_WALK_DIR_FLAGS = os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC


class EscapesRoot(OSError):
    """The path, or a symlink on the way, leads outside the root directory."""

    def __init__(self) -> None:
        super().__init__(errno.EXDEV, "path escapes the root directory")


class _OpenHow(ctypes.Structure):
    _fields_ = [
        ("flags", ctypes.c_uint64),
        ("mode", ctypes.c_uint64),
        ("resolve", ctypes.c_uint64),
    ]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
# glibc >= 2.28; without it renames fall back to check-then-rename.
_renameat2 = getattr(_libc, "renameat2", None)
if _renameat2 is not None:
    _renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    _renameat2.restype = ctypes.c_int
_RENAME_NOREPLACE = 1
# None: not probed yet.
_openat2_usable: bool | None = None


def use_openat2(enabled: bool | None) -> None:
    """Force (True/False) or re-probe (None) the kernel path; the walk is the fallback."""
    global _openat2_usable
    _openat2_usable = enabled


def openat2_available() -> bool:
    global _openat2_usable
    if _openat2_usable is None:
        try:
            os.close(_openat2(-100, "/", os.O_PATH | os.O_CLOEXEC, 0, 0))  # AT_FDCWD
        except OSError as exc:
            if exc.errno not in (errno.ENOSYS, errno.EPERM):
                raise
            _openat2_usable = False
        else:
            _openat2_usable = True
    return _openat2_usable


def open_beneath(dir_fd: int, path: str, flags: int, mode: int = 0o666) -> int:
    """Open `path` (relative, may contain "..") beneath `dir_fd`; O_NOFOLLOW applies last.

    O_CLOEXEC is always added. Raises EscapesRoot for any way out, else the OSError
    the open itself gave.
    """
    if path.startswith("/"):
        raise EscapesRoot()
    path = path or "."
    flags |= os.O_CLOEXEC
    if openat2_available():
        resolve = _RESOLVE_BENEATH | _RESOLVE_NO_MAGICLINKS
        for _ in range(_EAGAIN_RETRIES):
            try:
                return _openat2(dir_fd, path, flags, mode, resolve)
            except OSError as exc:
                if exc.errno == errno.EXDEV:
                    raise EscapesRoot() from None
                if exc.errno != errno.EAGAIN:
                    raise
    return _walk(dir_fd, path, flags, mode)


def _openat2(dir_fd: int, path: str, flags: int, mode: int, resolve: int) -> int:
    # The kernel rejects a mode without O_CREAT (O_TMPFILE is never used here).
    how = _OpenHow(flags, mode if flags & os.O_CREAT else 0, resolve)
    raw = os.fsencode(path)
    while True:
        fd = int(
            _libc.syscall(
                ctypes.c_long(_SYS_OPENAT2),
                ctypes.c_int(dir_fd),
                ctypes.c_char_p(raw),
                ctypes.byref(how),
                ctypes.c_size_t(ctypes.sizeof(how)),
            )
        )
        if fd >= 0:
            return fd
        err = ctypes.get_errno()
        if err != errno.EINTR:
            raise OSError(err, os.strerror(err), path)


def _components(path: str) -> list[str]:
    raw = path.split("/")
    parts = [part for part in raw if part not in ("", ".")]
    # "dir/" and "dir/." make "dir" an inner component, which is followed even under
    # O_NOFOLLOW and must be a directory; a final "." keeps it so.
    if parts and raw[-1] in ("", "."):
        parts.append(".")
    return parts


def _walk(dir_fd: int, path: str, flags: int, mode: int) -> int:
    """openat2(RESOLVE_BENEATH) in user space, for kernels without it.

    Every step opens a single name relative to a descriptor already known to be
    beneath the root, never following a symlink there; links are read and their
    (relative) text queued in place of the name. ".." pops the stack of directories
    walked through, so it can never climb above the root. Safe against concurrent
    renames: anything reached was, at the moment of the step, a real entry of a
    directory reached the same way.
    """
    follow_last = not flags & (os.O_NOFOLLOW | os.O_EXCL)
    todo = deque(_components(path))
    stack = [os.dup(dir_fd)]
    links = 0
    try:
        while todo:
            name = todo.popleft()
            if name == "." and todo:
                continue  # a link text's trailing "." in the middle of the path
            if name == "..":
                if len(stack) == 1:
                    raise EscapesRoot()
                os.close(stack.pop())
                continue
            if todo:
                fd = os.open(name, _WALK_DIR_FLAGS, dir_fd=stack[-1])
                kind = stat.S_IFMT(os.fstat(fd).st_mode)
                if kind == stat.S_IFDIR:
                    stack.append(fd)
                    continue
                try:
                    if kind != stat.S_IFLNK:
                        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), path)
                    target = _readlink(fd)
                finally:
                    os.close(fd)
            else:
                opened, target = _open_last(name, stack[-1], flags, mode, follow_last)
                if opened is not None:
                    return opened
            links += 1
            if links > _MAX_SYMLINKS:
                raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), path)
            if target.startswith("/"):
                raise EscapesRoot()
            todo.extendleft(reversed(_components(target)))
        # The path ended on a directory already open (the root itself, or a "..").
        return os.open(".", flags, mode, dir_fd=stack[-1])
    finally:
        for fd in stack:
            os.close(fd)


def _open_last(
    name: str, dir_fd: int, flags: int, mode: int, follow: bool
) -> tuple[int | None, str]:
    """Open the final name without following it: (fd, "") or (None, link text to follow)."""
    for attempt in range(2):
        try:
            fd = os.open(name, flags | os.O_NOFOLLOW, mode, dir_fd=dir_fd)
        except OSError as exc:
            if not follow or exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                raise
            link = _link_text(name, dir_fd)
            if link is not None:
                return None, link
            if attempt:
                raise
            continue  # it was a link a moment ago, perhaps: look again, once
        # O_PATH | O_NOFOLLOW opens a link itself instead of failing.
        if follow and flags & os.O_PATH and stat.S_ISLNK(os.fstat(fd).st_mode):
            try:
                return None, _readlink(fd)
            finally:
                os.close(fd)
        return fd, ""
    raise AssertionError("unreachable")


def _link_text(name: str, dir_fd: int) -> str | None:
    """The text of symlink `name`, read through its own descriptor; None if not a link.

    Reading by descriptor gives the text of the very link that was opened, so a swap
    between the check and the read cannot hand back a different object's answer.
    """
    try:
        fd = os.open(name, _WALK_DIR_FLAGS, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    try:
        return _readlink(fd) if stat.S_ISLNK(os.fstat(fd).st_mode) else None
    finally:
        os.close(fd)


def _readlink(link_fd: int) -> str:
    # readlinkat(fd, "") reads the link an O_PATH | O_NOFOLLOW descriptor refers to.
    return os.readlink("", dir_fd=link_fd)


def rename_noreplace(src_dir_fd: int, src: str, dst_dir_fd: int, dst: str) -> bool:
    """renameat2(RENAME_NOREPLACE): FileExistsError instead of replacing.

    False means the kernel, libc or filesystem lacks the flag (EINVAL is also what a
    move into itself gives; the caller's plain rename then reports that).
    """
    if _renameat2 is None:
        return False
    rc = _renameat2(src_dir_fd, os.fsencode(src), dst_dir_fd, os.fsencode(dst), _RENAME_NOREPLACE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS):
        return False
    raise OSError(err, os.strerror(err), dst)


class RootDir:
    """An open directory that every lookup of a WorkspaceFS is confined to.

    The descriptor pins the directory that was opened: renaming or replacing the root
    path later does not redirect the server. It is closed by close() or, at the
    latest, when the object is garbage collected.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(os.path.realpath(path, strict=True))
        self.fd = os.open(self.path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        self._finalizer = weakref.finalize(self, _close_quietly, self.fd)

    def open(self, rel: str, flags: int, mode: int = 0o666) -> int:
        return open_beneath(self.fd, rel, flags, mode)

    def open_dir(self, rel: str) -> int:
        """An O_PATH descriptor of directory `rel` (symlinks beneath the root followed)."""
        fd = self.open(rel, os.O_PATH)
        try:
            if not stat.S_ISDIR(os.fstat(fd).st_mode):
                raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), rel)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def close(self) -> None:
        self._finalizer()


def _close_quietly(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)
