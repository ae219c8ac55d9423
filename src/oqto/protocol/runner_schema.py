"""Envelope, field types and errors of the runner protocol; see `oqto.protocol.runner`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StrictInt,
    StringConstraints,
    ValidationError,
    model_serializer,
    model_validator,
)

from oqto.protocol.errors import ErrorCode, OqtoError, parse_code
from oqto.protocol.names import PlatformName
from oqto.protocol.sessions import WorkspaceNameError, check_workspace_name

PROTOCOL_VERSION = 1
MAX_FRAME_BYTES = 1 << 20
MAX_REQUEST_ID = 1 << 53  # largest integer every JSON implementation keeps exact


class WireModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_workspace(name: str) -> str:
    try:
        return check_workspace_name(name)
    except WorkspaceNameError as exc:
        raise ValueError(str(exc)) from None


# StrictInt everywhere: lax mode would turn "7", 7.0 or true into 7.
RequestId = Annotated[StrictInt, Field(ge=1, le=MAX_REQUEST_ID)]
Name = Annotated[str, StringConstraints(max_length=100)]
SessionId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]{1,64}$")]
Owner = PlatformName
# Bounded before the check so a huge name costs nothing; the result is the normalised name.
Workspace = Annotated[str, StringConstraints(max_length=1024), AfterValidator(_check_workspace)]


class HelloMessage(WireModel):
    """The handshake. `uid` and `user` are set in the server's reply only."""

    type: Literal["hello"] = "hello"
    protocol: StrictInt
    agent: Name
    uid: StrictInt | None = None
    user: Name | None = None

    @model_validator(mode="after")
    def _server_fields_together(self) -> HelloMessage:
        if (self.uid is None) != (self.user is None):
            raise ValueError("uid and user go together")
        return self

    @model_serializer(mode="wrap")
    def _omit_server_fields(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if self.uid is None:
            del data["uid"], data["user"]
        return data


class RequestMessage(WireModel):
    type: Literal["request"] = "request"
    id: RequestId
    method: Name
    params: dict[str, Any] = {}


class ResponseMessage(WireModel):
    type: Literal["response"] = "response"
    id: RequestId
    result: dict[str, Any] = {}


# What a runner may answer with: the protocol's own refusals and what its user plane
# reports. The code decides the status the asking browser sees, and the runner is its
# user's: one claiming, say, `unauthorized` would sign out whoever asked (an admin
# stopping that user's session), so any other code counts as `internal`.
RUNNER_CODES = frozenset(
    {
        ErrorCode.BAD_FRAME,
        ErrorCode.FRAME_TOO_LARGE,
        ErrorCode.INVALID_MESSAGE,
        ErrorCode.INVALID_PARAMS,
        ErrorCode.UNKNOWN_METHOD,
        ErrorCode.UNSUPPORTED_VERSION,
        ErrorCode.HANDSHAKE_REQUIRED,
        ErrorCode.BUSY,
        ErrorCode.INTERNAL,
        ErrorCode.INVALID_WORKSPACE,
        ErrorCode.PATH_TOO_LONG,
        ErrorCode.START_FAILED,
        ErrorCode.START_CANCELLED,
        ErrorCode.SESSION_NOT_RUNNING,
        ErrorCode.UPSTREAM_REFUSED,
        ErrorCode.UPSTREAM_UNAVAILABLE,
        ErrorCode.MISSING_BINARY,
        ErrorCode.SANDBOX_REFUSED,
    }
)


def _runner_code(code: object) -> object:
    # A newer peer may send codes this side does not know; it still gets an error, not a
    # broken connection.
    if not isinstance(code, str):
        return code
    known = parse_code(code)
    return known if known in RUNNER_CODES else ErrorCode.INTERNAL


class ErrorBody(WireModel):
    code: Annotated[ErrorCode, BeforeValidator(_runner_code)]
    message: str


class ErrorMessage(WireModel):
    type: Literal["error"] = "error"
    id: RequestId | None
    error: ErrorBody


class EventMessage(WireModel):
    type: Literal["event"] = "event"
    event: Name
    data: dict[str, Any] = {}


Message = Annotated[
    HelloMessage | RequestMessage | ResponseMessage | ErrorMessage | EventMessage,
    Field(discriminator="type"),
]
MESSAGE_TYPES = ("hello", "request", "response", "error", "event")


class ProtocolError(OqtoError):
    """A refusal on the wire: a frame or message the protocol refuses, or a method's own
    error. `request_id` is the id of the request it answers, when the offending frame
    carried a usable one."""

    def __init__(self, code: ErrorCode, message: str, request_id: int | None = None) -> None:
        super().__init__(code, message)
        self.request_id = request_id

    def __repr__(self) -> str:
        return f"ProtocolError({self.code.value!r}, {self.message!r}, {self.request_id!r})"

    def to_message(self) -> ErrorMessage:
        return ErrorMessage(
            id=self.request_id, error=ErrorBody(code=self.code, message=self.message)
        )


def clip(text: str, limit: int = 100) -> str:
    """Shorten peer-supplied text before it goes into an error message, and make it
    encodable: the peer chose it, so it must neither bloat nor break the reply."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe(exc: ValidationError, *, skip: int = 0) -> str:
    """`field.path: problem` for the first few errors; `skip` drops leading location parts
    that name the model rather than a field."""
    shown = 3
    parts = []
    for error in exc.errors(include_url=False, include_input=False)[:shown]:
        where = ".".join(clip(str(part), 64) for part in error["loc"][skip:])
        parts.append(f"{where or '(message)'}: {clip(error['msg'], 300)}")
    if exc.error_count() > shown:
        parts.append(f"and {exc.error_count() - shown} more")
    return "; ".join(parts)
