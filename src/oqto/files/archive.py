"""Streamed zip archives of workspace files and folders.

The whole tree is planned (walked and checked against the limits) before the first
byte is produced, so every refusal can still become a proper HTTP error; the archive
itself is generated lazily and never held in memory.

Entries are added by path so they keep their mode and mtime; zipstream re-opens each
file when it streams it. A file swapped for a symlink between planning and streaming
would therefore be followed, and its content would reach the requesting user only.
"""

import logging
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import zipstream

from oqto.files.errors import ErrorCode, WorkspaceError
from oqto.files.limits import FileLimits

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ZipItem:
    source: Path
    arcname: str


class ZipPlan:
    """The checked list of entries for one archive."""

    def __init__(self, root: Path, limits: FileLimits) -> None:
        self._root = root
        self._limits = limits
        self._used_names: set[str] = set()
        self._total_bytes = 0
        self.items: list[ZipItem] = []

    def add_target(self, path: Path, arcname: str) -> None:
        """Add a confined, resolved path; arcname "" puts a folder's contents at the top."""
        st = os.stat(path)
        if arcname:
            arcname = self._unique(arcname)
        if stat.S_ISDIR(st.st_mode):
            if arcname:
                self._add(path, arcname, 0)
            self._add_tree(path, arcname)
        elif stat.S_ISREG(st.st_mode):
            self._add(path, arcname, st.st_size)
        else:
            raise WorkspaceError(ErrorCode.NOT_A_FILE, f"not a regular file: {arcname}")

    def _add_tree(self, top: Path, top_arcname: str) -> None:
        # An explicit stack instead of recursion: depth is bounded only by PATH_MAX.
        stack = [(top, top_arcname)]
        while stack:
            directory, prefix = stack.pop()
            try:
                with os.scandir(directory) as it:
                    children = sorted(it, key=lambda de: de.name)
            except OSError as exc:
                log.warning("zip: skipping unreadable directory %s: %s", directory, exc)
                continue
            subdirs: list[tuple[Path, str]] = []
            for child in children:
                arcname = f"{prefix}/{child.name}" if prefix else child.name
                path = Path(child.path)
                try:
                    st = child.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue  # removed while walking
                if stat.S_ISDIR(st.st_mode):
                    self._add(path, arcname, 0)
                    subdirs.append((path, arcname))
                elif stat.S_ISREG(st.st_mode):
                    self._add(path, arcname, st.st_size)
                elif stat.S_ISLNK(st.st_mode):
                    self._add_link(path, arcname)
            stack.extend(reversed(subdirs))

    def _add_link(self, link: Path, arcname: str) -> None:
        target = Path(os.path.realpath(link))
        if not target.is_relative_to(self._root):
            log.info("zip: skipping symlink leaving the workspace: %s", arcname)
            return
        try:
            st = os.stat(target)
        except OSError:
            return
        # Links to directories are not followed: they can loop or duplicate subtrees.
        if stat.S_ISREG(st.st_mode):
            self._add(target, arcname, st.st_size)

    def _add(self, source: Path, arcname: str, size: int) -> None:
        if len(self.items) >= self._limits.max_zip_entries:
            raise WorkspaceError(
                ErrorCode.TOO_LARGE,
                f"archive would exceed the limit of {self._limits.max_zip_entries} entries",
            )
        self._total_bytes += size
        if self._total_bytes > self._limits.max_zip_bytes:
            raise WorkspaceError(
                ErrorCode.TOO_LARGE,
                f"archive would exceed the limit of {self._limits.max_zip_bytes} bytes",
            )
        self.items.append(ZipItem(source, arcname))

    def _unique(self, name: str) -> str:
        # Two requested paths may share a basename (a/x.txt and b/x.txt -> "x (2).txt").
        stem, dot, ext = name.rpartition(".")
        if not stem:
            stem, dot, ext = name, "", ""
        candidate, n = name, 1
        while candidate in self._used_names:
            n += 1
            candidate = f"{stem} ({n}){dot}{ext}"
        self._used_names.add(candidate)
        return candidate

    def stream(self) -> Iterator[bytes]:
        """Queue the planned entries and return the lazily generated archive bytes."""
        zs = zipstream.ZipStream(compress_type=zipstream.ZIP_DEFLATED)
        for item in self.items:
            try:
                zs.add_path(item.source, item.arcname, recurse=False)
            except FileNotFoundError:
                log.info("zip: skipping entry removed since planning: %s", item.arcname)
        chunks: Iterator[bytes] = iter(zs)
        return chunks
