"""File operations confined to one workspace root, independent of any transport.

Synchronous methods block on the filesystem; async callers should run them in a
worker thread. Every failure surfaces as a WorkspaceError with a client-safe message.
"""

import os
import shutil
import stat
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from pathlib import Path

from anyio import to_thread

from oqto.files.archive import ZipPlan
from oqto.files.atomic import StagedFile
from oqto.files.entries import Entry, TreeListing, etag_for, etag_matches, make_entry
from oqto.files.errors import ErrorCode, WorkspaceError, os_errors_as, too_large
from oqto.files.limits import FileLimits
from oqto.files.paths import normalize_rel, resolve_in_root

CHUNK_SIZE = 64 * 1024
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


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

    def read(self, size: int = CHUNK_SIZE) -> bytes:
        if self._fd is None or self._remaining <= 0:
            return b""
        data = os.read(self._fd, min(size, self._remaining))
        self._remaining = self._remaining - len(data) if data else 0
        return data

    async def aiter_rest(self) -> AsyncIterator[bytes]:
        """Yield the unread content, closing the file when done or abandoned."""
        try:
            while data := await to_thread.run_sync(self.read):
                yield data
        finally:
            self.close()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class WorkspaceFS:
    """All file operations on one workspace; client paths are relative to `root`.

    This is the library core shared by the HTTP app and other transports (such as a
    per-user runner), so limits and confinement are enforced here, not in the app.
    """

    def __init__(self, root: Path, limits: FileLimits | None = None) -> None:
        self.root = Path(os.path.realpath(root, strict=True))
        if not self.root.is_dir():
            raise NotADirectoryError(f"workspace root is not a directory: {root}")
        self.limits = limits or FileLimits()

    def resolve(self, rel: str, *, must_exist: bool, follow_symlinks: bool = True) -> Path:
        return resolve_in_root(
            self.root, rel, must_exist=must_exist, follow_symlinks=follow_symlinks
        )

    def stat(self, rel: str, *, follow_symlinks: bool = False) -> Entry:
        with os_errors_as(rel):
            path = self.resolve(rel, must_exist=True, follow_symlinks=follow_symlinks)
            st = os.stat(path) if follow_symlinks else os.lstat(path)
            return make_entry(normalize_rel(rel), st)

    def tree(self, rel: str = "", depth: int = 1, *, show_hidden: bool = True) -> TreeListing:
        """List a directory breadth-first, so a truncated listing is complete near the top.

        Symlinks are reported as such and never descended into.
        """
        depth = max(1, min(depth, self.limits.max_depth))
        base_rel = normalize_rel(rel)
        with os_errors_as(rel):
            base = self.resolve(rel, must_exist=True)
            if not base.is_dir():
                raise WorkspaceError(ErrorCode.NOT_A_DIRECTORY, f"not a directory: {rel}")
            top = self._list_dir(base, base_rel, show_hidden)
        entries: list[Entry] = []
        budget = self.limits.max_tree_entries
        # Directories are listed when dequeued, so ones never reached after truncation
        # stay without a "children" key instead of looking empty.
        pending: deque[tuple[Entry, Path, int]] = deque()
        out, children, level = entries, top, 1
        while True:
            for entry, path in children:
                if budget == 0:
                    return {"path": base_rel, "entries": entries, "truncated": True}
                budget -= 1
                out.append(entry)
                if entry["type"] == "dir" and level < depth:
                    pending.append((entry, path, level + 1))
            if not pending:
                return {"path": base_rel, "entries": entries, "truncated": False}
            parent, path, level = pending.popleft()
            try:
                children = self._list_dir(path, parent["path"], show_hidden)
            except OSError:
                children = []  # unreadable: leave it unexpanded rather than fail the tree
            else:
                out = parent["children"] = []

    def open_file(self, rel: str) -> OpenedFile:
        with os_errors_as(rel):
            path = self.resolve(rel, must_exist=True)
            fd = os.open(path, _READ_FLAGS)
            try:
                st = os.fstat(fd)
                if stat.S_ISDIR(st.st_mode):
                    raise WorkspaceError(ErrorCode.IS_A_DIRECTORY, f"is a directory: {rel}")
                if not stat.S_ISREG(st.st_mode):
                    raise WorkspaceError(ErrorCode.NOT_A_FILE, f"not a regular file: {rel}")
            except BaseException:
                os.close(fd)
                raise
            return OpenedFile(fd, make_entry(normalize_rel(rel), st))

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
            written = 0
            async for chunk in chunks:
                written += len(chunk)
                if written > limit:
                    raise too_large(limit)
                if chunk:
                    await to_thread.run_sync(staged.write, chunk)
            return await to_thread.run_sync(self._commit_write, staged, rel, if_match)
        except BaseException:
            staged.discard()
            raise

    def directory(self, rel: str, *, create: bool) -> Path:
        """Resolve `rel` as an existing directory, creating it (and parents) if asked."""
        with os_errors_as(rel):
            path = self.resolve(rel, must_exist=not create)
            if create:
                os.makedirs(path, exist_ok=True)
            if not path.is_dir():
                raise WorkspaceError(ErrorCode.NOT_A_DIRECTORY, f"not a directory: {rel}")
            return path

    def mkdir(self, rel: str) -> tuple[Entry, bool]:
        """Create a directory with its parents; returns its entry and whether it is new."""
        with os_errors_as(rel):
            path = self.resolve(rel, must_exist=False)
            existed = path.is_dir()
            os.makedirs(path, exist_ok=True)
            return make_entry(normalize_rel(rel), os.stat(path)), not existed

    def rename(self, old: str, new: str, *, overwrite: bool = False) -> Entry:
        """Rename the named object itself (a symlink is moved, not its target)."""
        with os_errors_as(old):
            src = self.resolve(old, must_exist=True, follow_symlinks=False)
        with os_errors_as(new):
            dst = self.resolve(new, must_exist=False, follow_symlinks=False)
            if self.root in (src, dst):
                raise WorkspaceError(ErrorCode.FORBIDDEN, "the workspace root cannot be renamed")
            if src != dst:
                if dst.is_relative_to(src):
                    raise WorkspaceError(
                        ErrorCode.INVALID_PATH, f"cannot move a directory into itself: {new}"
                    )
                # Check-then-rename: a target appearing in between is overwritten, which
                # only a RENAME_NOREPLACE syscall (not exposed by Python) would prevent.
                if not overwrite and os.path.lexists(dst):
                    raise WorkspaceError(ErrorCode.EXISTS, f"target already exists: {new}")
                os.rename(src, dst)
            return make_entry(normalize_rel(new), os.lstat(dst))

    def delete(self, rel: str) -> None:
        """Delete a file, a symlink (not its target) or a directory tree."""
        with os_errors_as(rel):
            path = self.resolve(rel, must_exist=True, follow_symlinks=False)
            if path == self.root:
                raise WorkspaceError(ErrorCode.FORBIDDEN, "the workspace root cannot be deleted")
            if stat.S_ISDIR(os.lstat(path).st_mode):
                # rmtree works on directory fds and never follows symlinks inside the tree.
                shutil.rmtree(path)
            else:
                os.unlink(path)

    def zip_stream(self, rels: Iterable[str]) -> Iterator[bytes]:
        """Plan (and check limits for) a zip of `rels`, then return its lazy byte stream."""
        rels = list(rels)
        if not rels:
            raise WorkspaceError(ErrorCode.BAD_REQUEST, "no paths to download")
        plan = ZipPlan(self.root, self.limits)
        for rel in rels:
            with os_errors_as(rel):
                path = self.resolve(rel, must_exist=True)
                plan.add_target(path, normalize_rel(rel).rpartition("/")[2])
        return plan.stream()

    def _list_dir(self, path: Path, rel: str, show_hidden: bool) -> list[tuple[Entry, Path]]:
        listed: list[tuple[Entry, Path]] = []
        with os.scandir(path) as it:
            for de in it:
                if not show_hidden and de.name.startswith("."):
                    continue
                try:
                    st = de.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue  # removed since the directory was read
                child_rel = f"{rel}/{de.name}" if rel else de.name
                listed.append((make_entry(child_rel, st), Path(de.path)))
        listed.sort(key=lambda item: (item[0]["type"] != "dir", item[0]["name"]))
        return listed

    def _stage_write(self, rel: str, if_match: str | None, mkdir: bool) -> StagedFile:
        with os_errors_as(rel):
            target = self.resolve(rel, must_exist=False)
            if target.is_dir():
                raise WorkspaceError(ErrorCode.IS_A_DIRECTORY, f"is a directory: {rel}")
            self._check_if_match(target, rel, if_match)
            if mkdir:
                os.makedirs(target.parent, exist_ok=True)
            elif not target.parent.is_dir():
                raise WorkspaceError(
                    ErrorCode.NOT_FOUND, f"parent directory does not exist (use mkdir): {rel}"
                )
            return StagedFile(target)

    def _commit_write(
        self, staged: StagedFile, rel: str, if_match: str | None
    ) -> tuple[Entry, bool]:
        with os_errors_as(rel):
            self._check_if_match(staged.target, rel, if_match)
            created = not os.path.lexists(staged.target)
            staged.commit()
            return make_entry(normalize_rel(rel), os.stat(staged.target)), created

    @staticmethod
    def _check_if_match(target: Path, rel: str, if_match: str | None) -> None:
        if if_match is None:
            return
        try:
            st = os.stat(target)
            current = etag_for(st) if stat.S_ISREG(st.st_mode) else None
        except FileNotFoundError:
            current = None
        if not etag_matches(if_match, current):
            raise WorkspaceError(
                ErrorCode.ETAG_MISMATCH, f"file changed since it was read (If-Match): {rel}"
            )
