"""HTTP interface of the workspace file server (one app per workspace root).

Where the work runs: small metadata work (listing one directory, a stat, an open, a
mkdir or a rename: microseconds to a few milliseconds of syscalls) runs on the event
loop, because a hop to a worker thread costs more (~0.12 ms on a small VM) than opening
and reading a small file, and is 5-10% of listing 1,000 entries. Work that grows with
file or tree sizes (file content beyond the first chunk, uploads and their fsync, a
tree deeper than one level, deleting a tree, zip archives) runs in worker threads, file
content in chunks of `CHUNK_SIZE`.
"""

import logging
from collections.abc import Awaitable, Callable, Generator, Iterator
from email.utils import formatdate
from functools import partial
from pathlib import Path

from anyio import to_thread

from oqto.files.asgi import (
    ClientDisconnect,
    Headers,
    InvalidRequest,
    Receive,
    Request,
    Responder,
    Scope,
    Send,
    serve_lifespan,
)
from oqto.files.chunks import CHUNK_SIZE, HEAD_SIZE
from oqto.files.entries import Entry, etag_matches
from oqto.files.errors import WorkspaceError, too_large
from oqto.files.limits import FileLimits
from oqto.files.mediatypes import OCTET_STREAM, attachment_disposition, safe_content_type
from oqto.files.paths import normalize_rel, sanitize_filename
from oqto.files.upload import receive_multipart
from oqto.files.workspace import OpenedFile, WorkspaceFS
from oqto.protocol.errors import ErrorCode

log = logging.getLogger(__name__)

Handler = Callable[[Request, Responder], Awaitable[None]]


def create_app(root: Path, limits: FileLimits | None = None) -> "FilesApp":
    return FilesApp(WorkspaceFS(root, limits))


class FilesApp:
    """The ASGI application: a fixed table of routes, each a method on this class."""

    def __init__(self, fs: WorkspaceFS) -> None:
        self.fs = fs
        # Methods in the order `Allow` lists them.
        self._routes: dict[str, dict[str, Handler]] = {
            "/health": {"GET": self._health},
            "/tree": {"GET": self._tree},
            "/file": {
                "GET": partial(self._file, download=False),
                "POST": self._upload,
                "PUT": self._write,
                "DELETE": self._delete,
            },
            "/download": {"GET": partial(self._file, download=True)},
            "/mkdir": {"PUT": self._mkdir},
            "/rename": {"POST": self._rename},
            "/download-zip": {"GET": self._download_zip},
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await serve_lifespan(receive, send)
            return
        respond = Responder(send)
        methods = self._routes.get(scope["path"])
        if methods is None:
            await respond.error(ErrorCode.NOT_FOUND, "Not Found")
            return
        handler = methods.get(scope["method"])
        if handler is None:
            await respond.error(
                ErrorCode.METHOD_NOT_ALLOWED,
                "Method Not Allowed",
                {"Allow": ", ".join(methods)},
                status=405,
            )
            return
        try:
            await handler(Request(scope, receive), respond)
        except Exception as exc:
            if respond.started:
                raise  # mid-body: the server can only end the connection
            await _refusal(respond, exc)

    # -- routes ------------------------------------------------------------------------

    async def _health(self, request: Request, respond: Responder) -> None:
        await respond.json({"status": "ok"})

    async def _tree(self, request: Request, respond: Responder) -> None:
        path = request.text("path", "")
        depth = request.integer("depth", 1, minimum=1)
        show_hidden = request.flag("show_hidden", True)
        listing = partial(self.fs.tree, path, depth, show_hidden=show_hidden)
        # One directory (what the UI asks for) here; a walk of many in a worker thread.
        await respond.json(listing() if depth == 1 else await to_thread.run_sync(listing))

    async def _file(self, request: Request, respond: Responder, *, download: bool) -> None:
        opened = self.fs.open_file(request.text("path"))
        try:
            await _send_file(request, respond, opened, download=download)
        finally:
            opened.close()

    async def _write(self, request: Request, respond: Responder) -> None:
        path = request.text("path")
        mkdir = request.flag("mkdir", False)
        _reject_oversized(request, self.fs.limits.max_upload_bytes)
        entry, created = await self.fs.write_stream(
            path, request.body(), if_match=request.header(b"if-match"), mkdir=mkdir
        )
        await respond.json(entry, 201 if created else 200, _etag(entry))

    async def _upload(self, request: Request, respond: Responder) -> None:
        path = request.text("path")
        mkdir = request.flag("mkdir", False)
        overwrite = request.flag("overwrite", False)
        _reject_oversized(request, self.fs.limits.max_upload_bytes)
        entries = await receive_multipart(
            self.fs,
            path,
            request.header(b"content-type") or "",
            request.body(),
            mkdir=mkdir,
            overwrite=overwrite,
        )
        await respond.json({"entries": entries}, 201)

    async def _delete(self, request: Request, respond: Responder) -> None:
        # A directory tree of any size: not on the event loop.
        await to_thread.run_sync(self.fs.delete, request.text("path"))
        await respond.whole(204, [])

    async def _mkdir(self, request: Request, respond: Responder) -> None:
        entry, created = self.fs.mkdir(request.text("path"))
        await respond.json(entry, 201 if created else 200)

    async def _rename(self, request: Request, respond: Responder) -> None:
        old, new = request.text("old_path"), request.text("new_path")
        overwrite = request.flag("overwrite", False)
        entry = self.fs.rename(old, new, overwrite=overwrite)
        await respond.json(entry, headers=_etag(entry))

    async def _download_zip(self, request: Request, respond: Responder) -> None:
        paths, name = request.texts("paths"), request.optional_text("name")
        # Planning walks the whole selection, so all refusals happen before streaming.
        rels, chunks = await to_thread.run_sync(_plan_zip, self.fs, paths)
        try:
            headers = [
                (b"content-type", b"application/zip"),
                (
                    b"content-disposition",
                    _latin1(attachment_disposition(_zip_filename(name, rels))),
                ),
            ]
            await respond.start(200, headers)  # no length: chunked, the size is not known
            await respond.stream(request.receive, partial(_next_batch, chunks))
        finally:
            chunks.close()


async def _send_file(
    request: Request, respond: Responder, opened: OpenedFile, *, download: bool
) -> None:
    entry = opened.entry
    headers: Headers = [
        (b"etag", opened.etag.encode()),
        (b"last-modified", formatdate(entry["mtime"], usegmt=True).encode()),
        # Cache, but revalidate every time: the agent may change files at any moment.
        (b"cache-control", b"private, no-cache"),
    ]
    if_none_match = request.header(b"if-none-match")
    if if_none_match is not None and etag_matches(if_none_match, opened.etag, weak=True):
        await respond.whole(304, headers)
        return
    # The first chunk is small and bounded: read here, it is all of most files.
    head = opened.read(HEAD_SIZE)
    if download:
        media_type = OCTET_STREAM
        headers.append((b"content-disposition", _latin1(attachment_disposition(entry["name"]))))
    else:
        media_type = safe_content_type(entry["name"], head, whole_file=len(head) == entry["size"])
    headers.append((b"content-type", media_type.encode()))
    if opened.exhausted:
        await respond.whole(200, headers, head)
        return
    headers.append((b"content-length", str(entry["size"]).encode()))
    await respond.start(200, headers)
    await respond.body(head, more=True)
    await respond.stream(request.receive, partial(opened.read, CHUNK_SIZE))


async def _refusal(respond: Responder, exc: Exception) -> None:
    if isinstance(exc, WorkspaceError):
        await respond.error(exc.code, exc.message)
    elif isinstance(exc, InvalidRequest):
        await respond.error(ErrorCode.INVALID_REQUEST, str(exc))
    elif isinstance(exc, ClientDisconnect):
        # Nobody is left to read this; it only keeps the disconnect out of the error log.
        await respond.error(ErrorCode.BAD_REQUEST, "client disconnected")
    else:
        # A bug is still an answer in the envelope; its details go to the log only.
        log.error("unhandled error", exc_info=exc)
        await respond.error(ErrorCode.INTERNAL, "internal server error")


def _reject_oversized(request: Request, limit: int) -> None:
    """Refuse before reading a byte when the declared length is already over the limit."""
    declared = request.header(b"content-length")
    if declared is None:
        return
    try:
        length = int(declared)
    except ValueError:
        raise WorkspaceError(ErrorCode.BAD_REQUEST, "invalid Content-Length header") from None
    if length > limit:
        raise too_large(limit)


def _etag(entry: Entry) -> Headers:
    return [(b"etag", entry["etag"].encode())] if "etag" in entry else []


def _latin1(value: str) -> bytes:
    # attachment_disposition keeps the header ASCII (non-ASCII goes into filename*).
    return value.encode("latin-1")


def _plan_zip(fs: WorkspaceFS, values: list[str]) -> tuple[list[str], Generator[bytes, None, None]]:
    """Accept repeated `paths` params, or one comma-separated value, and plan the zip.

    A single value that names an existing path is taken literally, so a file whose
    name contains a comma can still be downloaded on its own.
    """
    rels = values
    if len(values) == 1 and "," in values[0] and not fs.exists(values[0]):
        rels = [value for value in values[0].split(",") if value]
    return rels, fs.zip_stream(rels)


def _next_batch(chunks: Iterator[bytes]) -> bytes:
    """At least CHUNK_SIZE bytes of the archive (less at its end): deflate yields many
    small pieces, and each worker-thread hop should carry a chunk's worth."""
    parts: list[bytes] = []
    size = 0
    for part in chunks:
        parts.append(part)
        size += len(part)
        if size >= CHUNK_SIZE:
            break
    return b"".join(parts)


def _zip_filename(requested: str | None, rels: list[str]) -> str:
    if requested:
        stem = sanitize_filename(requested)
    elif len(rels) == 1:
        stem = normalize_rel(rels[0]).rpartition("/")[2] or "workspace"
    else:
        stem = "download"
    return stem if stem.lower().endswith(".zip") else f"{stem}.zip"
