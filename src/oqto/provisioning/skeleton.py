"""Populate a new home from a skeleton directory without ever leaving the skeleton."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def copy_skeleton(skeleton: Path, home: Path, uid: int, gid: int) -> int:
    """Copy regular files, directories and symlinks that stay inside the skeleton into
    `home` (existing files win), owned by uid:gid. Returns the number of entries copied.

    Links are recreated as links, never followed, and one pointing out of the skeleton
    is skipped: a skeleton must not become a way to plant e.g. /etc/shadow in a home."""
    root = skeleton.resolve()
    copied = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        source_dir = Path(dirpath)
        target_dir = home / source_dir.relative_to(root)
        for name in [*dirnames, *filenames]:
            source = source_dir / name
            target = target_dir / name
            if target.exists() or target.is_symlink():
                continue
            if source.is_symlink():
                link = os.readlink(source)
                if not (source.parent / link).resolve().is_relative_to(root):
                    continue
                target.symlink_to(link)
            elif source.is_dir():
                target.mkdir(mode=source.stat().st_mode & 0o777)
            elif source.is_file():
                shutil.copy2(source, target, follow_symlinks=False)
            else:
                continue  # devices, fifos, sockets have no place in a home skeleton
            os.chown(target, uid, gid, follow_symlinks=False)
            copied += 1
        # os.walk lists symlinked dirs in dirnames but must not descend into them.
        dirnames[:] = [d for d in dirnames if not (source_dir / d).is_symlink()]
    return copied
