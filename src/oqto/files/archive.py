"""Streamed zip archives of workspace files and folders.

The whole tree is planned (walked and checked against the limits) before the first
byte is produced, so every refusal can still become a proper HTTP error; the archive
itself is generated lazily and never held in memory.

Planning and streaming both look paths up beneath the root's descriptor
(`oqto.files.beneath`), and walked entries are reopened with O_NOFOLLOW: an entry
swapped for a symlink after planning is skipped, never followed. A file is read only
up to the size it had when planned, so the planned limits hold even if it grows.
"""

import logging
import os
import stat
import time
import zipfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass

from oqto.files.beneath import EscapesRoot, RootDir
from oqto.files.entries import nameable
from oqto.files.errors import WorkspaceError
from oqto.files.limits import FileLimits
from oqto.protocol.errors import ErrorCode

log = logging.getLogger(__name__)

_CHUNK = 64 * 1024
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY
_READ_FLAGS = os.O_RDONLY | os.O_NONBLOCK
# The DOS timestamps of zip entries cover 1980..2107.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_ZIP_END = (2107, 12, 31, 23, 59, 58)


@dataclass(frozen=True, slots=True)
class ZipItem:
    # Path beneath the root; with follow=False its last component is opened O_NOFOLLOW.
    rel: str
    arcname: str
    size: int
    mode: int
    mtime: float
    follow: bool = False

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.mode)


class ZipPlan:
    """The checked list of entries for one archive."""

    def __init__(self, root: RootDir, limits: FileLimits) -> None:
        # Holding the RootDir keeps its descriptor open until the stream is done.
        self._root = root
        self._limits = limits
        self._used_names: set[str] = set()
        self._total_bytes = 0
        self.items: list[ZipItem] = []

    def add_target(self, rel: str, arcname: str) -> None:
        """Add a client path (symlinks beneath the root followed); arcname "" puts a
        folder's contents at the top."""
        fd = self._root.open(rel, os.O_PATH)
        try:
            st = os.fstat(fd)
        finally:
            os.close(fd)
        if arcname:
            arcname = self._unique(arcname)
        if stat.S_ISDIR(st.st_mode):
            if arcname:
                self._add(ZipItem(rel, arcname, 0, st.st_mode, st.st_mtime, follow=True))
            self._add_tree(rel, arcname)
        elif stat.S_ISREG(st.st_mode):
            self._add(ZipItem(rel, arcname, st.st_size, st.st_mode, st.st_mtime, follow=True))
        else:
            raise WorkspaceError(ErrorCode.NOT_A_FILE, f"not a regular file: {arcname}")

    def _add_tree(self, top_rel: str, top_arcname: str) -> None:
        # An explicit stack instead of recursion: depth is bounded only by PATH_MAX.
        # Directories are reopened by path beneath the root rather than kept open, so
        # a wide tree cannot exhaust descriptors.
        stack = [(top_rel, top_arcname, True)]
        while stack:
            rel, prefix, follow = stack.pop()
            try:
                children = self._scan(rel, follow)
            except OSError as exc:
                log.warning("zip: skipping unreadable directory %s: %s", prefix or ".", exc)
                continue
            subdirs: list[tuple[str, str, bool]] = []
            for name, st in children:
                arcname = f"{prefix}/{name}" if prefix else name
                child_rel = f"{rel}/{name}" if rel else name
                if stat.S_ISDIR(st.st_mode):
                    self._add(ZipItem(child_rel, arcname, 0, st.st_mode, st.st_mtime))
                    subdirs.append((child_rel, arcname, False))
                elif stat.S_ISREG(st.st_mode):
                    self._add(ZipItem(child_rel, arcname, st.st_size, st.st_mode, st.st_mtime))
                elif stat.S_ISLNK(st.st_mode):
                    self._add_link(child_rel, arcname)
            stack.extend(reversed(subdirs))

    def _scan(self, rel: str, follow: bool) -> list[tuple[str, os.stat_result]]:
        flags = _DIR_FLAGS if follow else _DIR_FLAGS | os.O_NOFOLLOW
        fd = self._root.open(rel, flags)
        try:
            listed: list[tuple[str, os.stat_result]] = []
            with os.scandir(fd) as it:
                for de in sorted(it, key=lambda de: de.name):
                    if not nameable(de.name):
                        # As in tree listings: left out, since no client path names it
                        # and zipfile cannot store it as UTF-8.
                        log.info("zip: skipping a name that is not UTF-8: %r", de.name)
                        continue
                    try:
                        listed.append((de.name, de.stat(follow_symlinks=False)))
                    except FileNotFoundError:
                        continue  # removed while walking
            return listed
        finally:
            os.close(fd)

    def _add_link(self, rel: str, arcname: str) -> None:
        try:
            fd = self._root.open(rel, os.O_PATH)
        except EscapesRoot:
            log.info("zip: skipping symlink leaving the workspace: %s", arcname)
            return
        except OSError:
            return
        try:
            st = os.fstat(fd)
        finally:
            os.close(fd)
        # Links to directories are not followed: they can loop or duplicate subtrees.
        if stat.S_ISREG(st.st_mode):
            self._add(ZipItem(rel, arcname, st.st_size, st.st_mode, st.st_mtime, follow=True))

    def _add(self, item: ZipItem) -> None:
        if len(self.items) >= self._limits.max_zip_entries:
            raise WorkspaceError(
                ErrorCode.TOO_LARGE,
                f"archive would exceed the limit of {self._limits.max_zip_entries} entries",
            )
        self._total_bytes += item.size
        if self._total_bytes > self._limits.max_zip_bytes:
            raise WorkspaceError(
                ErrorCode.TOO_LARGE,
                f"archive would exceed the limit of {self._limits.max_zip_bytes} bytes",
            )
        self.items.append(item)

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

    def stream(self) -> Generator[bytes, None, None]:
        """The lazily generated archive bytes of the planned entries."""
        sink = _Sink()
        # Not seekable: zipfile writes data descriptors after each entry instead of
        # seeking back to patch the local header.
        with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for item in self.items:
                if item.is_dir:
                    zf.writestr(_zipinfo(item, item.arcname + "/"), b"")
                else:
                    yield from self._write_file(zf, sink, item)
                if data := sink.take():
                    yield data
        if data := sink.take():
            yield data

    def _write_file(self, zf: zipfile.ZipFile, sink: "_Sink", item: ZipItem) -> Iterator[bytes]:
        flags = _READ_FLAGS if item.follow else _READ_FLAGS | os.O_NOFOLLOW
        try:
            fd = self._root.open(item.rel, flags)
        except OSError as exc:
            log.info("zip: skipping entry changed since planning: %s (%s)", item.arcname, exc)
            return
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                log.info("zip: skipping entry no longer a file: %s", item.arcname)
                return
            info = _zipinfo(item, item.arcname)
            info.file_size = item.size  # lets zipfile decide on zip64 up front
            with zf.open(info, "w") as out:
                remaining = item.size
                while remaining > 0 and (chunk := os.read(fd, min(_CHUNK, remaining))):
                    remaining -= len(chunk)
                    out.write(chunk)
                    if data := sink.take():
                        yield data
        finally:
            os.close(fd)


def _zipinfo(item: ZipItem, arcname: str) -> zipfile.ZipInfo:
    stamp = time.localtime(item.mtime)[:6]
    info = zipfile.ZipInfo(arcname, min(max(stamp, _ZIP_EPOCH), _ZIP_END))
    info.external_attr = (item.mode & 0xFFFF) << 16
    if item.is_dir:
        info.external_attr |= 0x10  # MS-DOS directory flag
    else:
        info.compress_type = zipfile.ZIP_DEFLATED
    return info


class _Sink:
    """A write-only, unseekable file object whose contents are drained by take()."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._pos = 0

    def write(self, data: bytes, /) -> int:
        self._parts.append(bytes(data))
        self._pos += len(data)
        return len(data)

    def tell(self) -> int:
        return self._pos

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data
