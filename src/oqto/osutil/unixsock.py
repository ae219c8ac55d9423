"""Binding a Unix socket that is never, even briefly, more open than intended."""

from __future__ import annotations

import os
import socket
from pathlib import Path


def bind_unix_socket(path: Path, mode: int = 0o600) -> socket.socket:
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
