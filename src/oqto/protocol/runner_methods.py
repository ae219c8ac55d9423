"""Methods and events of the runner protocol, with their params and result models; see
`oqto.protocol.runner`."""

from __future__ import annotations

import base64
import enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, StrictBool, StrictInt, ValidationError

from oqto.protocol.runner_schema import (
    MAX_FILE_BYTES,
    Base64,
    ErrorCode,
    EventMessage,
    FilePath,
    Owner,
    ProtocolError,
    SessionId,
    WireModel,
    Workspace,
    clip,
    describe,
)
from oqto.protocol.sessions import ServiceName, SessionEvent, SessionRuntime, SessionSpec

MAX_LOG_BYTES = 1 << 20
DEFAULT_LOG_BYTES = 64 << 10
MAX_TREE_DEPTH = 20
EVENT_SESSION_STATE = "session.state"


class Method(enum.StrEnum):
    PING = "ping"
    SUBSCRIBE = "subscribe"
    SESSION_START = "session.start"
    SESSION_STOP = "session.stop"
    SESSION_GET = "session.get"
    SESSION_LIST = "session.list"
    SESSION_LOGS = "session.logs"
    SESSION_CONNECT = "session.connect"
    FILES_TREE = "files.tree"
    FILES_READ = "files.read"
    FILES_WRITE = "files.write"
    FILES_MKDIR = "files.mkdir"
    FILES_DELETE = "files.delete"
    FILES_RENAME = "files.rename"


class Empty(WireModel):
    pass


class CheckedSessionSpec(SessionSpec):
    """A SessionSpec whose fields are safe to build paths and unit names from."""

    id: SessionId
    owner: Owner
    workspace: Workspace


def _recheck_spec(value: object) -> object:
    # A plain SessionSpec built by the caller is not a CheckedSessionSpec; validate its fields.
    if isinstance(value, SessionSpec) and not isinstance(value, CheckedSessionSpec):
        return value.model_dump()
    return value


class SessionStartParams(WireModel):
    spec: Annotated[CheckedSessionSpec, BeforeValidator(_recheck_spec)]


class SessionIdParams(WireModel):
    id: SessionId


class SessionLogsParams(WireModel):
    id: SessionId
    service: Literal["agent", "files", "terminal"]
    max_bytes: Annotated[StrictInt, Field(ge=1, le=MAX_LOG_BYTES)] = DEFAULT_LOG_BYTES


class SessionConnectParams(WireModel):
    id: SessionId
    service: ServiceName


class SessionConnectResult(WireModel):
    """Sent with the connected socket as SCM_RIGHTS ancillary data on the same message."""

    service: ServiceName


class _WorkspaceParams(WireModel):
    owner: Owner
    workspace: Workspace


class FilesTreeParams(_WorkspaceParams):
    path: FilePath = ""
    depth: Annotated[StrictInt, Field(ge=1, le=MAX_TREE_DEPTH)] = 1


class FilesPathParams(_WorkspaceParams):
    path: FilePath


class FilesReadParams(FilesPathParams):
    max_bytes: Annotated[StrictInt, Field(ge=0, le=MAX_FILE_BYTES)] = MAX_FILE_BYTES


class FilesWriteParams(FilesPathParams):
    content_b64: Base64

    def content(self) -> bytes:
        return base64.b64decode(self.content_b64)


class FilesRenameParams(_WorkspaceParams):
    old_path: FilePath
    new_path: FilePath


class PingResult(WireModel):
    pong: Literal[True] = True
    uid: StrictInt
    version: str


class SessionResult(WireModel):
    session: SessionRuntime


class SessionGetResult(WireModel):
    session: SessionRuntime | None


class SessionListResult(WireModel):
    sessions: list[SessionRuntime]


class LogsResult(WireModel):
    text: str


class FilesTreeResult(WireModel):
    listing: dict[str, Any]


class FilesReadResult(WireModel):
    content_b64: Base64
    size: Annotated[StrictInt, Field(ge=0)]
    truncated: StrictBool


class FilesWriteResult(WireModel):
    size: Annotated[StrictInt, Field(ge=0)]


PARAM_MODELS: dict[str, type[BaseModel]] = {
    Method.PING: Empty,
    Method.SUBSCRIBE: Empty,
    Method.SESSION_START: SessionStartParams,
    Method.SESSION_STOP: SessionIdParams,
    Method.SESSION_GET: SessionIdParams,
    Method.SESSION_LIST: Empty,
    Method.SESSION_LOGS: SessionLogsParams,
    Method.SESSION_CONNECT: SessionConnectParams,
    Method.FILES_TREE: FilesTreeParams,
    Method.FILES_READ: FilesReadParams,
    Method.FILES_WRITE: FilesWriteParams,
    Method.FILES_MKDIR: FilesPathParams,
    Method.FILES_DELETE: FilesPathParams,
    Method.FILES_RENAME: FilesRenameParams,
}

RESULT_MODELS: dict[str, type[BaseModel]] = {
    Method.PING: PingResult,
    Method.SUBSCRIBE: Empty,
    Method.SESSION_START: SessionResult,
    Method.SESSION_STOP: Empty,
    Method.SESSION_GET: SessionGetResult,
    Method.SESSION_LIST: SessionListResult,
    Method.SESSION_LOGS: LogsResult,
    Method.SESSION_CONNECT: SessionConnectResult,
    Method.FILES_TREE: FilesTreeResult,
    Method.FILES_READ: FilesReadResult,
    Method.FILES_WRITE: FilesWriteResult,
    Method.FILES_MKDIR: Empty,
    Method.FILES_DELETE: Empty,
    Method.FILES_RENAME: Empty,
}

EVENT_MODELS: dict[str, type[BaseModel]] = {EVENT_SESSION_STATE: SessionEvent}


def parse_params(
    method: str, params: dict[str, Any], *, request_id: int | None = None
) -> BaseModel:
    """Validate a request's params; the ProtocolError carries `request_id` for the reply."""
    model = PARAM_MODELS.get(method)
    if model is None:
        raise ProtocolError(
            ErrorCode.UNKNOWN_METHOD, f"unknown method {clip(method)!r}", request_id
        )
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        raise ProtocolError(ErrorCode.INVALID_PARAMS, describe(exc), request_id) from None


def parse_result(
    method: str, result: dict[str, Any], *, request_id: int | None = None
) -> BaseModel:
    """Validate the result of a call to `method`; a bad one means the peer broke the protocol."""
    model = RESULT_MODELS.get(method)
    if model is None:
        raise ProtocolError(
            ErrorCode.UNKNOWN_METHOD, f"unknown method {clip(method)!r}", request_id
        )
    try:
        return model.model_validate(result)
    except ValidationError as exc:
        raise ProtocolError(
            ErrorCode.INVALID_MESSAGE, f"result of {method}: {describe(exc)}", request_id
        ) from None


def parse_event(message: EventMessage) -> BaseModel:
    """The typed payload of a pushed event; an event this side does not know is refused."""
    model = EVENT_MODELS.get(message.event)
    if model is None:
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, f"unknown event {clip(message.event)!r}")
    try:
        return model.model_validate(message.data)
    except ValidationError as exc:
        raise ProtocolError(
            ErrorCode.INVALID_MESSAGE, f"data of {message.event}: {describe(exc)}"
        ) from None
