"""Session lifecycle routes and the proxies to each session's services."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response

from oqto.control.api.contract import USER_PLANE, ContractRoute, Responses, errors
from oqto.control.api.schemas import SessionCreateIn, SessionOut
from oqto.control.auth.deps import CurrentPrincipal, CurrentUser
from oqto.control.context import context
from oqto.control.proxy.dataplane import METHODS
from oqto.protocol.errors import ErrorCode, OqtoError

log = logging.getLogger(__name__)

router = APIRouter(prefix="/sessions", tags=["sessions"], route_class=ContractRoute)

# The control plane's own refusals on a proxied request; any other answer is the service's.
PROXY_ERRORS = (
    ErrorCode.NOT_FOUND,
    ErrorCode.SESSION_NOT_RUNNING,
    ErrorCode.SESSION_STARTING,
    ErrorCode.UPSTREAM_UNAVAILABLE,
    ErrorCode.UPSTREAM_TIMEOUT,
    *USER_PLANE,
)
PASSED_THROUGH: Responses = {
    "default": {
        "description": "The service's own answer, passed through: any status and content "
        "type (`oqto-files` answers its errors in the same envelope).",
        "content": {"*/*": {}},
    }
}


@router.get("", response_model=list[SessionOut])
def list_sessions(user: CurrentUser, request: Request) -> list[SessionOut]:
    sessions = context(request).sessions
    return [SessionOut.of(row, sessions) for row in sessions.list_for(user)]


@router.post(
    "",
    response_model=SessionOut,
    status_code=201,
    responses=errors(ErrorCode.INVALID_WORKSPACE, ErrorCode.TOO_MANY_SESSIONS),
)
async def create_session(body: SessionCreateIn, user: CurrentUser, request: Request) -> SessionOut:
    sessions = context(request).sessions
    return SessionOut.of(await sessions.create(user, body.workspace), sessions)


@router.get("/{session_id}", response_model=SessionOut, responses=errors(ErrorCode.NOT_FOUND))
def get_session(session_id: str, user: CurrentUser, request: Request) -> SessionOut:
    sessions = context(request).sessions
    return SessionOut.of(sessions.get(user, session_id), sessions)


@router.delete("/{session_id}", status_code=204, responses=errors(ErrorCode.NOT_FOUND, *USER_PLANE))
async def delete_session(session_id: str, user: CurrentUser, request: Request) -> None:
    await context(request).sessions.delete(user, session_id)


@router.post(
    "/{session_id}/stop",
    response_model=SessionOut,
    responses=errors(ErrorCode.NOT_FOUND, *USER_PLANE),
)
async def stop_session(session_id: str, user: CurrentUser, request: Request) -> SessionOut:
    sessions = context(request).sessions
    return SessionOut.of(await sessions.stop(user, session_id), sessions)


@router.post(
    "/{session_id}/resume",
    response_model=SessionOut,
    responses=errors(ErrorCode.NOT_FOUND, ErrorCode.SESSION_STOPPING),
)
async def resume_session(session_id: str, user: CurrentUser, request: Request) -> SessionOut:
    sessions = context(request).sessions
    return SessionOut.of(await sessions.resume(user, session_id), sessions)


# The proxy operations, declared for the OpenAPI document (FastAPI reads the parameters
# and the sign-in dependency from these signatures). `oqto.control.proxy.dataplane` serves
# every request to them before routing, so their bodies run only if it was not installed.


def _not_served() -> Response:
    raise OqtoError(ErrorCode.INTERNAL, "the data plane is not installed")


async def agent_proxy(session_id: str, path: str, principal: CurrentPrincipal) -> Response:
    """Everything of the session's opencode server API, SSE included. The statuses listed
    are the control plane's own refusals; any other answer is opencode's."""
    return _not_served()


async def files_proxy(session_id: str, path: str, principal: CurrentPrincipal) -> Response:
    """The session's file server (`/tree`, `/file`, `/mkdir`, `/rename`, `/download`, ...).
    The statuses listed are the control plane's own refusals; any other answer is the file
    server's, in the same envelope."""
    return _not_served()


# One route per method so each gets its own OpenAPI operation id.
for _method in METHODS:
    for _endpoint in (agent_proxy, files_proxy):
        _service = _endpoint.__name__.removesuffix("_proxy")
        # A GET or HEAD must not carry a body; any other body sent to the file server has
        # a limit.
        _refusals: tuple[ErrorCode, ...] = PROXY_ERRORS
        if _method in ("GET", "HEAD"):
            _refusals += (ErrorCode.BODY_NOT_ALLOWED,)
        elif _endpoint is files_proxy:
            _refusals += (ErrorCode.TOO_LARGE,)
        router.add_api_route(
            f"/{{session_id}}/{_service}/{{path:path}}",
            _endpoint,
            methods=[_method],
            name=f"{_service}_proxy_{_method.lower()}",
            tags=["proxy"],
            response_class=Response,
            response_description="The service's answer.",
            responses=errors(*_refusals) | PASSED_THROUGH,
        )
