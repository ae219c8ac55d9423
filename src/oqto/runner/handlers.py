"""What each runner method does. Every path is resolved here, on the runner's side, inside
the account's workspace roots; nothing from the wire is ever executed."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from pydantic import BaseModel

from oqto.files.errors import WorkspaceError
from oqto.files.workspace import WorkspaceFS
from oqto.protocol.errors import ErrorCode as FileErrorCode
from oqto.protocol.runner import (
    Empty,
    ErrorCode,
    FilesPathParams,
    FilesReadParams,
    FilesReadResult,
    FilesRenameParams,
    FilesTreeParams,
    FilesTreeResult,
    FilesWriteParams,
    FilesWriteResult,
    LogsResult,
    Method,
    PingResult,
    ProtocolError,
    SessionConnectParams,
    SessionGetResult,
    SessionIdParams,
    SessionListResult,
    SessionLogsParams,
    SessionResult,
    SessionStartParams,
    error_code_for,
)
from oqto.userplane.base import UserPlaneError
from oqto.userplane.local import LocalUserPlane
from oqto.userplane.workspaces import workspace_root

Handler = Callable[[Any], Awaitable[BaseModel]]

_FILE_CODES = {
    FileErrorCode.OUTSIDE_ROOT: ErrorCode.FORBIDDEN,
    FileErrorCode.FORBIDDEN: ErrorCode.FORBIDDEN,
    FileErrorCode.NOT_FOUND: ErrorCode.NOT_FOUND,
}


def file_error(exc: WorkspaceError) -> ProtocolError:
    return ProtocolError(_FILE_CODES.get(exc.code, ErrorCode.INVALID_PATH), exc.message)


class RunnerHandlers:
    def __init__(self, userplane: LocalUserPlane, workspace_template: str, version: str) -> None:
        self._userplane = userplane
        self._template = workspace_template
        self._version = version
        self.table: dict[str, Handler] = {
            Method.PING: self.ping,
            Method.SESSION_START: self.session_start,
            Method.SESSION_STOP: self.session_stop,
            Method.SESSION_GET: self.session_get,
            Method.SESSION_LIST: self.session_list,
            Method.SESSION_LOGS: self.session_logs,
            Method.FILES_TREE: self.files_tree,
            Method.FILES_READ: self.files_read,
            Method.FILES_WRITE: self.files_write,
            Method.FILES_MKDIR: self.files_mkdir,
            Method.FILES_DELETE: self.files_delete,
            Method.FILES_RENAME: self.files_rename,
        }

    # -- sessions ------------------------------------------------------------------------

    async def ping(self, _params: Empty) -> PingResult:
        return PingResult(uid=os.getuid(), version=self._version)

    async def session_start(self, params: SessionStartParams) -> SessionResult:
        try:
            return SessionResult(session=await self._userplane.start_session(params.spec))
        except UserPlaneError as exc:
            raise ProtocolError(error_code_for(exc.code), exc.message) from None

    async def session_stop(self, params: SessionIdParams) -> Empty:
        await self._userplane.stop_session(params.id)
        return Empty()

    async def session_get(self, params: SessionIdParams) -> SessionGetResult:
        return SessionGetResult(session=await self._userplane.get_session(params.id))

    async def session_list(self, _params: Empty) -> SessionListResult:
        return SessionListResult(sessions=await self._userplane.list_sessions())

    async def connect(self, params: SessionConnectParams) -> socket.socket:
        """A connection to one of our own session's services, for the control plane to
        use (passed over our socket): it never needs access to the service sockets."""
        try:
            return await self._userplane.connect_service(params.id, params.service)
        except UserPlaneError as exc:
            raise ProtocolError(error_code_for(exc.code), exc.message) from None

    async def session_logs(self, params: SessionLogsParams) -> LogsResult:
        text = self._userplane.service_log(params.id, params.service, params.max_bytes)
        if text is None:
            raise ProtocolError(ErrorCode.NOT_FOUND, "no such session")
        return LogsResult(text=text)

    # -- files ---------------------------------------------------------------------------

    def _fs(self, owner: str, workspace: str) -> WorkspaceFS:
        root = workspace_root(self._template, owner)
        path = root / workspace
        if not path.is_dir():
            raise ProtocolError(ErrorCode.NOT_FOUND, f"no workspace {workspace!r}")
        real_root = root.resolve()
        if not path.resolve().is_relative_to(real_root):
            raise ProtocolError(ErrorCode.FORBIDDEN, f"workspace {workspace!r} leaves the root")
        return WorkspaceFS(path)

    @staticmethod
    async def _blocking(call: Callable[[], Any]) -> Any:
        try:
            return await asyncio.to_thread(call)
        except WorkspaceError as exc:
            raise file_error(exc) from None

    async def files_tree(self, p: FilesTreeParams) -> FilesTreeResult:
        fs = self._fs(p.owner, p.workspace)
        listing = await self._blocking(lambda: fs.tree(p.path, p.depth))
        return FilesTreeResult(listing=dict(listing))

    async def files_read(self, p: FilesReadParams) -> FilesReadResult:
        fs = self._fs(p.owner, p.workspace)

        def read() -> tuple[bytes, int]:
            opened = fs.open_file(p.path)
            try:
                data = b""
                while len(data) < p.max_bytes and (chunk := opened.read(p.max_bytes - len(data))):
                    data += chunk
                return data, int(opened.entry["size"])
            finally:
                opened.close()

        data, size = await self._blocking(read)
        return FilesReadResult(
            content_b64=base64.b64encode(data).decode(), size=size, truncated=len(data) < size
        )

    async def files_write(self, p: FilesWriteParams) -> FilesWriteResult:
        fs = self._fs(p.owner, p.workspace)
        content = p.content()

        async def once() -> AsyncIterator[bytes]:
            yield content

        try:
            await fs.write_stream(p.path, once())
        except WorkspaceError as exc:
            raise file_error(exc) from None
        return FilesWriteResult(size=len(content))

    async def files_mkdir(self, p: FilesPathParams) -> Empty:
        fs = self._fs(p.owner, p.workspace)
        await self._blocking(lambda: fs.mkdir(p.path))
        return Empty()

    async def files_delete(self, p: FilesPathParams) -> Empty:
        fs = self._fs(p.owner, p.workspace)
        await self._blocking(lambda: fs.delete(p.path))
        return Empty()

    async def files_rename(self, p: FilesRenameParams) -> Empty:
        fs = self._fs(p.owner, p.workspace)
        await self._blocking(lambda: fs.rename(p.old_path, p.new_path))
        return Empty()
