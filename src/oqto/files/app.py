"""HTTP interface of the workspace file server (one app per workspace root)."""

import logging
from collections.abc import AsyncIterator
from email.utils import formatdate
from functools import partial
from pathlib import Path
from typing import Annotated

from anyio import to_thread
from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.datastructures import MutableHeaders
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oqto.files.entries import Entry, etag_matches
from oqto.files.errors import WorkspaceError, too_large
from oqto.files.limits import FileLimits
from oqto.files.mediatypes import OCTET_STREAM, attachment_disposition, safe_content_type
from oqto.files.paths import normalize_rel, sanitize_filename
from oqto.files.upload import receive_multipart
from oqto.files.workspace import OpenedFile, WorkspaceFS
from oqto.httperrors import install_framework_handlers
from oqto.protocol.errors import ErrorCode, error_response

log = logging.getLogger(__name__)

# Applied to every response: even JSON must never be sniffed into something renderable.
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
}

RelPath = Annotated[str, Query(description="path relative to the workspace root")]


def create_app(root: Path, limits: FileLimits | None = None) -> FastAPI:
    fs = WorkspaceFS(root, limits)
    app = FastAPI(title="oqto-files", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(_SecurityHeadersMiddleware)
    _install_error_handlers(app)

    @app.get("/health")
    async def health() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @app.get("/tree")
    async def tree(
        path: RelPath = "",
        depth: Annotated[int, Query(ge=1)] = 1,
        show_hidden: bool = True,
    ) -> JSONResponse:
        listing = await to_thread.run_sync(partial(fs.tree, path, depth, show_hidden=show_hidden))
        return JSONResponse(listing)

    @app.get("/file")
    async def read_file(request: Request, path: RelPath) -> Response:
        return await _file_response(fs, path, request, download=False)

    @app.get("/download")
    async def download(request: Request, path: RelPath) -> Response:
        return await _file_response(fs, path, request, download=True)

    @app.put("/file")
    async def write_file(request: Request, path: RelPath, mkdir: bool = False) -> JSONResponse:
        _reject_oversized(request, fs.limits.max_upload_bytes)
        entry, created = await fs.write_stream(
            path, request.stream(), if_match=request.headers.get("if-match"), mkdir=mkdir
        )
        return JSONResponse(entry, status_code=201 if created else 200, headers=_etag(entry))

    @app.post("/file")
    async def upload(
        request: Request, path: RelPath, mkdir: bool = False, overwrite: bool = False
    ) -> JSONResponse:
        _reject_oversized(request, fs.limits.max_upload_bytes)
        entries = await receive_multipart(
            fs,
            path,
            request.headers.get("content-type", ""),
            request.stream(),
            mkdir=mkdir,
            overwrite=overwrite,
        )
        return JSONResponse({"entries": entries}, status_code=201)

    @app.delete("/file")
    async def delete(path: RelPath) -> Response:
        await to_thread.run_sync(fs.delete, path)
        return Response(status_code=204)

    @app.put("/mkdir")
    async def mkdir(path: RelPath) -> JSONResponse:
        entry, created = await to_thread.run_sync(fs.mkdir, path)
        return JSONResponse(entry, status_code=201 if created else 200)

    @app.post("/rename")
    async def rename(old_path: RelPath, new_path: RelPath, overwrite: bool = False) -> JSONResponse:
        entry = await to_thread.run_sync(
            partial(fs.rename, old_path, new_path, overwrite=overwrite)
        )
        return JSONResponse(entry, headers=_etag(entry))

    @app.get("/download-zip")
    async def download_zip(
        paths: Annotated[list[str], Query()], name: str | None = None
    ) -> StreamingResponse:
        rels = await to_thread.run_sync(_zip_paths, fs, paths)
        # Planning walks the whole selection, so all refusals happen before streaming.
        chunks = await to_thread.run_sync(fs.zip_stream, rels)
        filename = _zip_filename(name, rels)
        return StreamingResponse(
            chunks,
            media_type="application/zip",
            headers={"Content-Disposition": attachment_disposition(filename)},
        )

    return app


async def _file_response(
    fs: WorkspaceFS, path: str, request: Request, *, download: bool
) -> Response:
    opened = await to_thread.run_sync(fs.open_file, path)
    try:
        headers = {
            "ETag": opened.etag,
            "Last-Modified": formatdate(opened.entry["mtime"], usegmt=True),
            # Cache, but revalidate every time: the agent may change files at any moment.
            "Cache-Control": "private, no-cache",
        }
        if_none_match = request.headers.get("if-none-match")
        if if_none_match is not None and etag_matches(if_none_match, opened.etag, weak=True):
            opened.close()
            return Response(status_code=304, headers=headers)
        head = await to_thread.run_sync(opened.read)
        if download:
            media_type = OCTET_STREAM
            headers["Content-Disposition"] = attachment_disposition(opened.entry["name"])
        else:
            media_type = safe_content_type(
                opened.entry["name"], head, whole_file=len(head) == opened.entry["size"]
            )
        headers["Content-Length"] = str(opened.entry["size"])
        return _OpenedFileResponse(opened, head, media_type=media_type, headers=headers)
    except BaseException:
        opened.close()
        raise


class _OpenedFileResponse(StreamingResponse):
    """Streams an already opened file and closes it however the response ends.

    A plain generator's cleanup would not run if sending stops before the body
    iteration starts (e.g. the client disconnects), leaking the descriptor.
    """

    def __init__(
        self, opened: OpenedFile, head: bytes, *, media_type: str, headers: dict[str, str]
    ) -> None:
        super().__init__(_prepend(head, opened), media_type=media_type, headers=headers)
        self._opened = opened

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._opened.close()


async def _prepend(head: bytes, opened: OpenedFile) -> AsyncIterator[bytes]:
    if head:
        yield head
    async for chunk in opened.aiter_rest():
        yield chunk


def _reject_oversized(request: Request, limit: int) -> None:
    """Refuse before reading a byte when the declared length is already over the limit."""
    declared = request.headers.get("content-length")
    if declared is None:
        return
    try:
        length = int(declared)
    except ValueError:
        raise WorkspaceError(ErrorCode.BAD_REQUEST, "invalid Content-Length header") from None
    if length > limit:
        raise too_large(limit)


def _etag(entry: Entry) -> dict[str, str]:
    return {"ETag": entry["etag"]} if "etag" in entry else {}


def _zip_paths(fs: WorkspaceFS, values: list[str]) -> list[str]:
    """Accept repeated `paths` params, or one comma-separated value.

    A single value that names an existing path is taken literally, so a file whose
    name contains a comma can still be downloaded on its own.
    """
    if len(values) != 1 or "," not in values[0] or fs.exists(values[0]):
        return values
    return [value for value in values[0].split(",") if value]


def _zip_filename(requested: str | None, rels: list[str]) -> str:
    if requested:
        stem = sanitize_filename(requested)
    elif len(rels) == 1:
        stem = normalize_rel(rels[0]).rpartition("/")[2] or "workspace"
    else:
        stem = "download"
    return stem if stem.lower().endswith(".zip") else f"{stem}.zip"


class _SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _install_error_handlers(app: FastAPI) -> None:
    install_framework_handlers(app)

    @app.exception_handler(WorkspaceError)
    async def workspace_error(_: Request, exc: WorkspaceError) -> Response:
        return error_response(exc.code, exc.message)

    @app.exception_handler(ClientDisconnect)
    async def client_disconnect(_: Request, exc: ClientDisconnect) -> Response:
        # Nobody is left to read this; it only keeps the disconnect out of the error log.
        return error_response(ErrorCode.BAD_REQUEST, "client disconnected")
