"""Atomic file replacement: write a temp file beside the target, fsync, rename over it."""

import contextlib
import os
import secrets
import stat

TEMP_PREFIX = ".oqto-tmp-"
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class StagedFile:
    """A temp file in the target's directory that becomes the target only on commit.

    Readers of the target see either the old or the complete new content, never a
    partial write, and a failed or abandoned write leaves the old file untouched.
    The directory is a descriptor (not owned: the caller closes it after commit or
    discard) and both names are single components inside it, so a path swapped
    meanwhile cannot redirect the create or the rename.
    """

    def __init__(self, dir_fd: int, name: str) -> None:
        self.dir_fd = dir_fd
        self.name = name
        # A fixed-length name keeps the temp file valid even when the target name is
        # already at the 255-byte limit.
        self._tmp = f"{TEMP_PREFIX}{secrets.token_hex(8)}"
        # 0o666 lets the process umask decide a new file's mode, as a normal create would.
        self._fd: int | None = os.open(self._tmp, _CREATE_FLAGS, 0o666, dir_fd=dir_fd)
        try:
            existing = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            # Only a regular file's mode carries over; a replaced symlink reports 0o777.
            if stat.S_ISREG(existing.st_mode):
                os.fchmod(self._fd, stat.S_IMODE(existing.st_mode))
        except FileNotFoundError:
            pass
        except OSError:
            self.discard()
            raise

    def write(self, data: bytes) -> None:
        if self._fd is None:
            raise RuntimeError("staged file is already finished or discarded")
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]

    def finish(self) -> None:
        """Flush the content to disk and release the descriptor; the target is untouched.

        Lets a caller hold many completed files (one per upload part) without
        holding as many open descriptors.
        """
        if self._fd is not None:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None

    def commit(self) -> None:
        self.finish()
        os.replace(self._tmp, self.name, src_dir_fd=self.dir_fd, dst_dir_fd=self.dir_fd)
        _fsync_dir(self.dir_fd)

    def discard(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._tmp, dir_fd=self.dir_fd)


def _fsync_dir(dir_fd: int) -> None:
    # Makes the rename itself durable. Best effort: the data is already in place, and
    # failing the request now would report an error for a write that happened. The
    # descriptor may be O_PATH, which cannot be synced: reopen it through ".".
    with contextlib.suppress(OSError):
        fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=dir_fd)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
