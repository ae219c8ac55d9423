"""The file library's errors: the shared codes (`oqto.protocol.errors`), and what each
OSError means for a client path."""

import errno
from collections.abc import Iterator
from contextlib import contextmanager

from oqto.files.beneath import EscapesRoot
from oqto.protocol.errors import ErrorCode, OqtoError


class WorkspaceError(OqtoError):
    """A refused or failed file operation; `message` is safe to show to the client."""


_ERRNO_CODES: dict[int, tuple[ErrorCode, str]] = {
    errno.ENOENT: (ErrorCode.NOT_FOUND, "no such file or directory"),
    errno.ENOTDIR: (ErrorCode.NOT_FOUND, "a path component is not a directory"),
    errno.EISDIR: (ErrorCode.IS_A_DIRECTORY, "is a directory"),
    errno.EEXIST: (ErrorCode.EXISTS, "already exists"),
    errno.ENOTEMPTY: (ErrorCode.CONFLICT, "directory is not empty"),
    errno.EINVAL: (ErrorCode.INVALID_PATH, "invalid operation for this path"),
    errno.ELOOP: (ErrorCode.INVALID_PATH, "too many levels of symbolic links"),
    errno.ENAMETOOLONG: (ErrorCode.INVALID_PATH, "path or name too long"),
    errno.EACCES: (ErrorCode.FORBIDDEN, "permission denied"),
    errno.EPERM: (ErrorCode.FORBIDDEN, "operation not permitted"),
    errno.EROFS: (ErrorCode.FORBIDDEN, "read-only file system"),
    errno.ENXIO: (ErrorCode.NOT_A_FILE, "not a regular file"),
    errno.ENOSPC: (ErrorCode.NO_SPACE, "no space left on device"),
    errno.EDQUOT: (ErrorCode.NO_SPACE, "disk quota exceeded"),
}


def from_os_error(exc: OSError, rel: str) -> WorkspaceError:
    """Translate an OSError without leaking absolute server paths into the message."""
    if isinstance(exc, EscapesRoot):
        return WorkspaceError(ErrorCode.OUTSIDE_ROOT, f"path escapes the workspace root: {rel}")
    code, text = _ERRNO_CODES.get(exc.errno or 0, (ErrorCode.IO_ERROR, "I/O error"))
    return WorkspaceError(code, f"{text}: {rel or '.'}")


@contextmanager
def os_errors_as(rel: str) -> Iterator[None]:
    """Re-raise any OSError from the block as a WorkspaceError about client path `rel`."""
    try:
        yield
    except OSError as exc:
        raise from_os_error(exc, rel) from exc


def too_large(limit: int) -> WorkspaceError:
    return WorkspaceError(ErrorCode.TOO_LARGE, f"request body exceeds the limit of {limit} bytes")
