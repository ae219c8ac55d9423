"""Streaming multipart/form-data upload into a workspace directory.

Parts are parsed incrementally and written to temp files beside their targets; only
when the whole body has arrived intact are they renamed into place, so an aborted or
oversized upload leaves no trace.
"""

import os
import stat
from collections.abc import AsyncIterable
from functools import partial
from typing import TYPE_CHECKING

from anyio import to_thread
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from oqto.files.atomic import StagedFile
from oqto.files.chunks import batched
from oqto.files.entries import Entry, make_entry
from oqto.files.errors import WorkspaceError, os_errors_as
from oqto.files.paths import normalize_rel, sanitize_filename
from oqto.files.workspace import WorkspaceFS
from oqto.protocol.errors import ErrorCode

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks


async def receive_multipart(
    fs: WorkspaceFS,
    dir_rel: str,
    content_type: str,
    body: AsyncIterable[bytes],
    *,
    max_bytes: int | None = None,
    mkdir: bool = False,
    overwrite: bool = False,
) -> list[Entry]:
    """Save every file part of `body` into directory `dir_rel`; returns their entries.

    `max_bytes` bounds the raw body, boundaries and headers included. Non-file form
    fields are ignored. Existing files are only replaced with overwrite=True.
    """
    limit = fs.limits.max_upload_bytes if max_bytes is None else max_bytes
    boundary = _boundary(content_type)
    dir_fd = await to_thread.run_sync(partial(fs.open_directory, dir_rel, create=mkdir))
    receiver = _Receiver(dir_fd, normalize_rel(dir_rel), overwrite=overwrite)
    parser = MultipartParser(boundary, callbacks=receiver.callbacks())
    try:
        async for batch in batched(body, limit):
            await to_thread.run_sync(_feed, parser, batch, dir_rel)
        if not receiver.finished:
            raise WorkspaceError(ErrorCode.BAD_REQUEST, "multipart body ended prematurely")
        return await to_thread.run_sync(receiver.commit_all)
    except BaseException:
        receiver.discard_all()
        raise
    finally:
        os.close(dir_fd)


def _boundary(content_type: str) -> bytes:
    media_type, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if media_type != b"multipart/form-data" or not boundary:
        raise WorkspaceError(
            ErrorCode.BAD_REQUEST, "expected a multipart/form-data body with a boundary"
        )
    return boundary


def _feed(parser: MultipartParser, chunk: bytes, dir_rel: str) -> None:
    # Runs in a worker thread: the parser callbacks write part data to disk.
    try:
        with os_errors_as(dir_rel):
            parser.write(chunk)
    except FormParserError as exc:
        raise WorkspaceError(ErrorCode.BAD_REQUEST, f"malformed multipart body: {exc}") from exc


class _Receiver:
    """Parser callbacks that stage each file part; not thread-safe, fed sequentially.

    Every part lands in the one directory descriptor opened (confined) up front.
    """

    def __init__(self, dir_fd: int, dir_rel: str, *, overwrite: bool) -> None:
        self._dir_fd = dir_fd
        self._dir_rel = dir_rel
        self._overwrite = overwrite
        self._header_name: list[bytes] = []
        self._header_value: list[bytes] = []
        self._headers: dict[bytes, bytes] = {}
        self._current: tuple[StagedFile, str] | None = None
        self._staged: dict[str, StagedFile] = {}
        self.finished = False

    def callbacks(self) -> "MultipartCallbacks":
        return {
            "on_part_begin": self._headers.clear,
            "on_header_field": lambda data, start, end: self._header_name.append(data[start:end]),
            "on_header_value": lambda data, start, end: self._header_value.append(data[start:end]),
            "on_header_end": self._on_header_end,
            "on_headers_finished": self._on_headers_finished,
            "on_part_data": self._on_part_data,
            "on_part_end": self._on_part_end,
            "on_end": self._on_end,
        }

    def commit_all(self) -> list[Entry]:
        entries: list[Entry] = []
        for rel, staged in self._staged.items():
            with os_errors_as(rel):
                self._check_target(staged.name, rel)
                staged.commit()
                st = os.stat(staged.name, dir_fd=self._dir_fd, follow_symlinks=False)
                entries.append(make_entry(rel, st))
        self._staged.clear()
        return entries

    def discard_all(self) -> None:
        if self._current is not None:
            self._current[0].discard()
            self._current = None
        for staged in self._staged.values():
            staged.discard()
        self._staged.clear()

    def _on_header_end(self) -> None:
        name = b"".join(self._header_name).strip().lower()
        self._headers[name] = b"".join(self._header_value).strip()
        self._header_name.clear()
        self._header_value.clear()

    def _on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition"))
        raw_name = options.get(b"filename")
        # Plain form fields carry no filename; browsers send filename="" for an empty
        # file input. Neither is a file to save.
        if not raw_name:
            return
        # parse_options_header hands back the header's raw bytes; browsers send UTF-8.
        name = sanitize_filename(raw_name.decode("utf-8", errors="replace"))
        rel = f"{self._dir_rel}/{name}" if self._dir_rel else name
        self._check_target(name, rel)
        if rel in self._staged and not self._overwrite:
            raise WorkspaceError(ErrorCode.EXISTS, f"file uploaded twice: {rel}")
        self._current = (StagedFile(self._dir_fd, name), rel)

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._current is not None:
            self._current[0].write(data[start:end])

    def _on_part_end(self) -> None:
        if self._current is None:
            return
        staged, rel = self._current
        self._current = None
        staged.finish()
        replaced = self._staged.pop(rel, None)
        if replaced is not None:
            replaced.discard()
        self._staged[rel] = staged

    def _on_end(self) -> None:
        self.finished = True

    def _check_target(self, name: str, rel: str) -> None:
        try:
            st = os.stat(name, dir_fd=self._dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            return
        if stat.S_ISDIR(st.st_mode):
            raise WorkspaceError(ErrorCode.IS_A_DIRECTORY, f"is a directory: {rel}")
        if not self._overwrite:
            raise WorkspaceError(ErrorCode.EXISTS, f"target already exists: {rel}")
