"""File operations confined to one workspace root, independent of any transport.

Synchronous methods block on the filesystem; async callers should run them in a
worker thread. Every failure surfaces as a WorkspaceError with a client-safe message.

No path is ever opened by name from "/": every lookup starts at the root's descriptor
and is confined there by `oqto.files.beneath` (openat2 RESOLVE_BENEATH or an fd walk),
and every change (create, rename, unlink) is made with `dir_fd=` and a single name
inside a directory descriptor obtained that way. So a user or agent swapping any path
component for a symlink, at any moment, cannot make the server act outside the root.
"""

import contextlib
import errno
import os
import shutil
import stat
from collections import deque
from collections.abc import AsyncIterable, Generator, Iterable, Iterator
from operator import attrgetter
from pathlib import Path

from anyio import to_thread

from oqto.files.archive import ZipPlan
from oqto.files.atomic import StagedFile
from oqto.files.beneath import EscapesRoot, RootDir, rename_noreplace
from oqto.files.chunks import CHUNK_SIZE, batched
from oqto.files.entries import (
    Entry,
    TreeListing,
    entries_of,
    etag_for,
    etag_matches,
    make_entry,
    nameable,
)
from oqto.files.errors import WorkspaceError, os_errors_as
from oqto.files.limits import FileLimits
from oqto.files.paths import normalize_rel, split_rel
from oqto.protocol.errors import ErrorCode

_READ_FLAGS = os.O_RDONLY | os.O_NONBLOCK
_LIST_FLAGS = os.O_RDONLY | os.O_DIRECTORY
# Linux's limit on symlinks followed in one lookup, applied to write targets too.
_MAX_SYMLINKS = 40
_by_name = attrgetter("name")


class OpenedFile:
    """A regular file opened for reading, pinned to the inode that passed the checks.

    Reads stop at the size seen when opening, so a response can announce its length.
    O_NONBLOCK in the open flags keeps a FIFO planted in the workspace from hanging
    the open; it has no effect on regular files.
    """

    def __init__(self, fd: int, entry: Entry) -> None:
        self._fd: int | None = fd
        self.entry = entry
        self._remaining = entry["size"]

    @property
    def etag(self) -> str:
        return self.entry.get("etag", "")

    @property
    def exhausted(self) -> bool:
        """Everything up to the size seen when opening has been read."""
        return self._remaining <= 0

    def read(self, size: int = CHUNK_SIZE) -> bytes:
        if self._fd is None or self._remaining <= 0:
            return b""
        data = os.read(self._fd, min(size, self._remaining))
        self._remaining = self._remaining - len(data) if data else 0
        return data

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class WorkspaceFS:
    """All file operations on one workspace; client paths are relative to `root`.

    This is the library core shared by the HTTP app and other transports (such as a
    per-user runner), so limits and confinement are enforced here, not in the app.
    Symlinks inside the workspace are followed as long as every step stays beneath
    the root (relative links only); any way out is refused with `outside_root`.
    """

    def __init__(self, root: Path, limits: FileLimits | None = None) -> None:
        self._dir = RootDir(root)
        self.root = self._dir.path
        self.limits = limits or FileLimits()

    def close(self) -> None:
        """Release the root's descriptor now rather than when garbage collected."""
        self._dir.close()

    def exists(self, rel: str) -> bool:
        try:
            fd = self._dir.open(normalize_rel(rel), os.O_PATH)
        except (OSError, WorkspaceError):
            return False
        os.close(fd)
        return True

    def stat(self, rel: str, *, follow_symlinks: bool = False) -> Entry:
        with os_errors_as(rel):
            parts = split_rel(rel)
            if follow_symlinks or not parts:
                with _closing(self._dir.open("/".join(parts), os.O_PATH)) as fd:
                    st = os.fstat(fd)
            else:
                with _closing(self._parent(parts)) as parent:
                    st = os.stat(parts[-1], dir_fd=parent, follow_symlinks=False)
            return make_entry(normalize_rel(rel), st)

    def tree(self, rel: str = "", depth: int = 1, *, show_hidden: bool = True) -> TreeListing:
        """List a directory breadth-first, so a truncated listing is complete near the top.

        Symlinks are reported as such and never descended into; names that are not
        valid UTF-8 are left out and counted in `invalid_names`.
        """
        depth = max(1, min(depth, self.limits.max_depth))
        base_rel = normalize_rel(rel)
        budget = self.limits.max_tree_entries
        with os_errors_as(rel), _closing(self._open_directory(rel)) as base:
            entries, more, invalid = self._list_dir(base, base_rel, show_hidden, budget)
        budget -= len(entries)
        # Directories are listed when dequeued, so ones never reached after truncation
        # stay without a "children" key instead of looking empty. Each item is a
        # directory and the level its children are at.
        pending: deque[tuple[Entry, int]] = deque()
        level = 1
        children = entries
        while not more:
            if level < depth:
                pending.extend((entry, level + 1) for entry in children if entry["type"] == "dir")
            if not pending:
                return {
                    "path": base_rel,
                    "entries": entries,
                    "truncated": False,
                    "invalid_names": invalid,
                }
            parent, level = pending.popleft()
            try:
                # Holding a descriptor per queued directory could run out of them, so
                # each is reopened beneath the root; O_NOFOLLOW keeps it the listed one.
                fd = self._dir.open(parent["path"], _LIST_FLAGS | os.O_NOFOLLOW)
                with _closing(fd):
                    children, more, skipped = self._list_dir(
                        fd, parent["path"], show_hidden, budget
                    )
            except OSError:
                children = []  # unreadable or gone: leave it unexpanded, not fail the tree
                continue
            invalid += skipped
            if children or not more:
                parent["children"] = children
            budget -= len(children)
        return {"path": base_rel, "entries": entries, "truncated": True, "invalid_names": invalid}

    def open_file(self, rel: str) -> OpenedFile:
        with os_errors_as(rel):
            clean = normalize_rel(rel)
            fd = self._dir.open(clean, _READ_FLAGS)
            try:
                st = os.fstat(fd)
                if stat.S_ISDIR(st.st_mode):
                    raise WorkspaceError(ErrorCode.IS_A_DIRECTORY, f"is a directory: {rel}")
                if not stat.S_ISREG(st.st_mode):
                    raise WorkspaceError(ErrorCode.NOT_A_FILE, f"not a regular file: {rel}")
            except BaseException:
                os.close(fd)
                raise
            return OpenedFile(fd, make_entry(clean, st))

    async def write_stream(
        self,
        rel: str,
        chunks: AsyncIterable[bytes],
        *,
        max_bytes: int | None = None,
        if_match: str | None = None,
        mkdir: bool = False,
    ) -> tuple[Entry, bool]:
        """Atomically replace (or create) a file; returns its entry and whether it is new.

        `if_match` is an If-Match header value; it is checked before the body is read
        and again just before the swap, since another writer may act in between.
        """
        limit = self.limits.max_upload_bytes if max_bytes is None else max_bytes
        staged = await to_thread.run_sync(self._stage_write, rel, if_match, mkdir)
        try:
            async for batch in batched(chunks, limit):
                await to_thread.run_sync(staged.write, batch)
            return await to_thread.run_sync(self._commit_write, staged, rel, if_match)
        except BaseException:
            staged.discard()
            raise
        finally:
            os.close(staged.dir_fd)

    def open_directory(self, rel: str, *, create: bool) -> int:
        """A descriptor of directory `rel`, created (with parents) if asked; caller closes."""
        with os_errors_as(rel):
            if create:
                os.close(self._makedirs(split_rel(rel)))
            return self._open_directory(rel)

    def mkdir(self, rel: str) -> tuple[Entry, bool]:
        """Create a directory with its parents; returns its entry and whether it is new."""
        with os_errors_as(rel):
            parts = split_rel(rel)
            try:
                fd = self._dir.open_dir("/".join(parts))
            except FileNotFoundError:
                fd, existed = self._makedirs(parts), False
            except NotADirectoryError:
                # The final name exists as something else; a missing parent stays a 404.
                if self._is_dir(parts[:-1]):
                    raise FileExistsError(errno.EEXIST, "exists", rel) from None
                raise
            else:
                existed = True
            with _closing(fd):
                return make_entry(normalize_rel(rel), os.fstat(fd)), not existed

    def rename(self, old: str, new: str, *, overwrite: bool = False) -> Entry:
        """Rename the named object itself (a symlink is moved, not its target)."""
        old_parts, new_parts = split_rel(old), split_rel(new)
        if not old_parts or not new_parts:
            raise WorkspaceError(ErrorCode.FORBIDDEN, "the workspace root cannot be renamed")
        src_name, dst_name = old_parts[-1], new_parts[-1]
        with os_errors_as(old):
            src = self._parent(old_parts)
        try:
            with os_errors_as(old):
                os.stat(src_name, dir_fd=src, follow_symlinks=False)
            with os_errors_as(new), _closing(self._parent(new_parts)) as dst:
                same = src_name == dst_name and os.path.samestat(os.fstat(src), os.fstat(dst))
                if not same:
                    self._rename_at(src, src_name, dst, dst_name, new, overwrite=overwrite)
                st = os.stat(dst_name, dir_fd=dst, follow_symlinks=False)
                return make_entry(normalize_rel(new), st)
        finally:
            os.close(src)

    def delete(self, rel: str) -> None:
        """Delete a file, a symlink (not its target) or a directory tree."""
        parts = split_rel(rel)
        if not parts:
            raise WorkspaceError(ErrorCode.FORBIDDEN, "the workspace root cannot be deleted")
        with os_errors_as(rel), _closing(self._parent(parts)) as parent:
            name = parts[-1]
            if stat.S_ISDIR(os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode):
                # rmtree works on directory fds and never follows symlinks inside the tree.
                shutil.rmtree(name, dir_fd=parent)
            else:
                os.unlink(name, dir_fd=parent)

    def zip_stream(self, rels: Iterable[str]) -> Generator[bytes, None, None]:
        """Plan (and check limits for) a zip of `rels`, then return its lazy byte stream."""
        rels = list(rels)
        if not rels:
            raise WorkspaceError(ErrorCode.BAD_REQUEST, "no paths to download")
        plan = ZipPlan(self._dir, self.limits)
        for rel in rels:
            with os_errors_as(rel):
                clean = normalize_rel(rel)
                plan.add_target(clean, clean.rpartition("/")[2])
        return plan.stream()

    # -- lookups -----------------------------------------------------------------------

    def _parent(self, parts: tuple[str, ...]) -> int:
        """The directory holding the last component (symlinks before it followed)."""
        return self._dir.open_dir("/".join(parts[:-1]))

    def _is_dir(self, parts: tuple[str, ...]) -> bool:
        try:
            os.close(self._dir.open_dir("/".join(parts)))
        except OSError:
            return False
        return True

    def _open_directory(self, rel: str) -> int:
        try:
            return self._dir.open_dir(normalize_rel(rel))
        except NotADirectoryError:
            # Distinguish "names a file" (400) from "a parent is missing or a file" (404).
            if self.exists(rel):
                raise WorkspaceError(ErrorCode.NOT_A_DIRECTORY, f"not a directory: {rel}") from None
            raise

    def _makedirs(self, parts: tuple[str, ...]) -> int:
        """Create the missing directories of `parts` one name at a time; returns the last."""
        for i in range(len(parts)):
            so_far = "/".join(parts[: i + 1])
            try:
                os.close(self._dir.open_dir(so_far))
                continue
            except FileNotFoundError:
                pass
            # A dangling link here makes mkdir fail with EEXIST, and the open below
            # report the missing target: links are never created through.
            parent = self._parent(parts[: i + 1])
            with _closing(parent), contextlib.suppress(FileExistsError):
                os.mkdir(parts[i], dir_fd=parent)
        return self._dir.open_dir("/".join(parts))

    def _write_target(self, rel: str, mkdir: bool) -> tuple[int, str]:
        """The directory and name a write to `rel` replaces.

        A symlink inside the root is written through (its target is replaced, the link
        stays), so its text is resolved here, against the root again, never by name.
        """
        parts = split_rel(rel)
        if not parts:
            raise WorkspaceError(ErrorCode.IS_A_DIRECTORY, f"is a directory: {rel}")
        parent, name = "/".join(parts[:-1]), parts[-1]
        for _ in range(_MAX_SYMLINKS):
            if mkdir:
                os.close(self._makedirs(tuple(p for p in parent.split("/") if p)))
            try:
                fd = self._dir.open_dir(parent)
            except FileNotFoundError:
                raise WorkspaceError(
                    ErrorCode.NOT_FOUND, f"parent directory does not exist (use mkdir): {rel}"
                ) from None
            try:
                st = os.stat(name, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                return fd, name
            if stat.S_ISDIR(st.st_mode):
                os.close(fd)
                raise WorkspaceError(ErrorCode.IS_A_DIRECTORY, f"is a directory: {rel}")
            if not stat.S_ISLNK(st.st_mode):
                return fd, name
            try:
                link = os.readlink(name, dir_fd=fd)
            finally:
                os.close(fd)
            if link.startswith("/"):
                raise EscapesRoot()
            joined = f"{parent}/{link}" if parent else link
            parent, _, name = joined.rstrip("/").rpartition("/")
            if name in ("", ".", ".."):
                raise WorkspaceError(ErrorCode.IS_A_DIRECTORY, f"is a directory: {rel}")
        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), rel)

    # -- helpers -----------------------------------------------------------------------

    @staticmethod
    def _list_dir(
        fd: int, rel: str, show_hidden: bool, limit: int
    ) -> tuple[list[Entry], bool, int]:
        """The first `limit` entries of a directory (folders first, then by name), whether
        there were more, and how many were left out for names that are not UTF-8.

        Names are ordered by the type readdir reports, so only the entries kept are
        stat()ed: one fstatat(fd, name) each, no path lookups. A directory far larger
        than the limit costs a readdir, not a stat per name.
        """
        readable = os.open(".", _LIST_FLAGS | os.O_CLOEXEC, dir_fd=fd)
        invalid = 0
        # The entries stat() through `readable`: they must be done before it is closed.
        with _closing(readable), os.scandir(readable) as it:
            dirs: list[os.DirEntry[str]] = []
            others: list[os.DirEntry[str]] = []
            for de in it:
                if not show_hidden and de.name.startswith("."):
                    continue
                if not nameable(de.name):
                    invalid += 1
                    continue
                (dirs if de.is_dir(follow_symlinks=False) else others).append(de)
            dirs.sort(key=_by_name)
            others.sort(key=_by_name)
            dirs += others
            listed = entries_of(f"{rel}/" if rel else "", dirs[:limit])
        return listed, len(dirs) > limit, invalid

    def _rename_at(
        self, src: int, src_name: str, dst: int, dst_name: str, new: str, *, overwrite: bool
    ) -> None:
        if not overwrite:
            try:
                if rename_noreplace(src, src_name, dst, dst_name):
                    return
            except FileExistsError:
                raise WorkspaceError(ErrorCode.EXISTS, f"target already exists: {new}") from None
            # No RENAME_NOREPLACE here: check, then rename (a target appearing in
            # between is overwritten, but only ever inside the root).
            try:
                os.stat(dst_name, dir_fd=dst, follow_symlinks=False)
            except FileNotFoundError:
                pass
            else:
                raise WorkspaceError(ErrorCode.EXISTS, f"target already exists: {new}")
        try:
            os.rename(src_name, dst_name, src_dir_fd=src, dst_dir_fd=dst)
        except OSError as exc:
            if exc.errno == errno.EINVAL:
                raise WorkspaceError(
                    ErrorCode.INVALID_PATH, f"cannot move a directory into itself: {new}"
                ) from None
            raise

    def _stage_write(self, rel: str, if_match: str | None, mkdir: bool) -> StagedFile:
        with os_errors_as(rel):
            dir_fd, name = self._write_target(rel, mkdir)
            try:
                self._check_if_match(dir_fd, name, rel, if_match)
                return StagedFile(dir_fd, name)
            except BaseException:
                os.close(dir_fd)
                raise

    def _commit_write(
        self, staged: StagedFile, rel: str, if_match: str | None
    ) -> tuple[Entry, bool]:
        with os_errors_as(rel):
            self._check_if_match(staged.dir_fd, staged.name, rel, if_match)
            created = not _lexists(staged.dir_fd, staged.name)
            staged.commit()
            st = os.stat(staged.name, dir_fd=staged.dir_fd, follow_symlinks=False)
            return make_entry(normalize_rel(rel), st), created

    @staticmethod
    def _check_if_match(dir_fd: int, name: str, rel: str, if_match: str | None) -> None:
        if if_match is None:
            return
        try:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            current = etag_for(st) if stat.S_ISREG(st.st_mode) else None
        except FileNotFoundError:
            current = None
        if not etag_matches(if_match, current):
            raise WorkspaceError(
                ErrorCode.ETAG_MISMATCH, f"file changed since it was read (If-Match): {rel}"
            )


@contextlib.contextmanager
def _closing(fd: int) -> Iterator[int]:
    try:
        yield fd
    finally:
        os.close(fd)


def _lexists(dir_fd: int, name: str) -> bool:
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True
