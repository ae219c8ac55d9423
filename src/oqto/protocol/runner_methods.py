"""Methods and events of the runner protocol, with their params and result models; see
`oqto.protocol.runner`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Final, Generic, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, StrictInt, ValidationError

from oqto.protocol.errors import ErrorCode
from oqto.protocol.runner_schema import (
    EventMessage,
    Owner,
    ProtocolError,
    SessionId,
    WireModel,
    Workspace,
    clip,
    describe,
)
from oqto.protocol.sessions import ServiceName, SessionEvent, SessionRuntime, SessionSpec

EVENT_SESSION_STATE = "session.state"

# A method's params and result models, for callers and handlers typed per method.
ParamsT = TypeVar("ParamsT", bound=BaseModel)
ResultT = TypeVar("ResultT", bound=BaseModel)


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


class SessionConnectParams(WireModel):
    id: SessionId
    service: ServiceName


class SessionConnectResult(WireModel):
    """Sent with the connected socket as SCM_RIGHTS ancillary data on the same message."""

    service: ServiceName


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


@dataclass(frozen=True)
class RunnerMethod(Generic[ParamsT, ResultT]):
    """One method: its name on the wire and the models of its params and result. A call
    names the method, so the type checker ties its params and result to it at the caller,
    and pydantic checks both again on the wire."""

    name: str
    params: type[ParamsT]
    result: type[ResultT]

    def parse_params(self, params: dict[str, Any], *, request_id: int | None = None) -> ParamsT:
        """Validate a request's params; the ProtocolError carries `request_id` for the reply."""
        try:
            return self.params.model_validate(params)
        except ValidationError as exc:
            raise ProtocolError(ErrorCode.INVALID_PARAMS, describe(exc), request_id) from None

    def parse_result(self, result: dict[str, Any], *, request_id: int | None = None) -> ResultT:
        """Validate the result of a call; a bad one means the peer broke the protocol."""
        try:
            return self.result.model_validate(result)
        except ValidationError as exc:
            raise ProtocolError(
                ErrorCode.INVALID_MESSAGE, f"result of {self.name}: {describe(exc)}", request_id
            ) from None


class Method:
    """Every method of the protocol."""

    PING: Final = RunnerMethod("ping", Empty, PingResult)
    SUBSCRIBE: Final = RunnerMethod("subscribe", Empty, Empty)
    SESSION_START: Final = RunnerMethod("session.start", SessionStartParams, SessionResult)
    SESSION_STOP: Final = RunnerMethod("session.stop", SessionIdParams, Empty)
    SESSION_GET: Final = RunnerMethod("session.get", SessionIdParams, SessionGetResult)
    SESSION_LIST: Final = RunnerMethod("session.list", Empty, SessionListResult)
    SESSION_CONNECT: Final = RunnerMethod(
        "session.connect", SessionConnectParams, SessionConnectResult
    )


METHODS: dict[str, RunnerMethod[Any, Any]] = {
    m.name: m for m in vars(Method).values() if isinstance(m, RunnerMethod)
}

EVENT_MODELS: dict[str, type[BaseModel]] = {EVENT_SESSION_STATE: SessionEvent}


def parse_params(
    method: str, params: dict[str, Any], *, request_id: int | None = None
) -> BaseModel:
    """Validate the params of a request for the method named `method`; an unknown name is
    `unknown_method`."""
    known = METHODS.get(method)
    if known is None:
        raise ProtocolError(
            ErrorCode.UNKNOWN_METHOD, f"unknown method {clip(method)!r}", request_id
        )
    parsed: BaseModel = known.parse_params(params, request_id=request_id)
    return parsed


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
