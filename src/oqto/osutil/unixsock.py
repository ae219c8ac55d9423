"""Binding a Unix socket that is never, even briefly, more open than intended."""

from __future__ import annotations

import os
import socket
import stat

StrPath = str | os.PathLike[str]


def remove_stale_socket(path: StrPath) -> None:
    """Remove a socket file nobody listens on any more (left by a server that crashed),
    so that a new one can be bound there. Anything else at the path is not ours to remove:
    FileExistsError for a file that is not a socket, or for a server still listening."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise FileExistsError(f"{os.fspath(path)} exists and is not a socket")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(os.fspath(path))
        except OSError:
            os.unlink(path)
            return
    raise FileExistsError(f"{os.fspath(path)} is in use by a running server")


def bind_unix_socket(path: StrPath, mode: int = 0o600) -> socket.socket:
    """Bind a stream socket at `path` (which must not exist) with permissions `mode`.

    The umask closes the window between bind() and chmod(); the chmod still matters
    because a default ACL on the directory would override the umask."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    previous = os.umask(0o177)
    try:
        sock.bind(os.fspath(path))
        os.chmod(path, mode)
    except BaseException:
        sock.close()
        raise
    finally:
        os.umask(previous)
    return sock
