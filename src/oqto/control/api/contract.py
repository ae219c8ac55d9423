"""The API's failures as the OpenAPI document states them, built from the one status table.

Every error the API sends is the envelope `{"error": code, "message": text}`
(`ErrorEnvelope`) with the status its code has everywhere (`oqto.protocol.errors`). A route
declares the codes it raises itself, `responses=errors(ErrorCode.X, ...)`: codes that share
a status are listed together under it, and `x-error-codes` names them for clients and tests.
`ContractRoute` adds the refusals a route shares with every route of its kind, read from
what the route depends on, so that a new route cannot leave them out:

- signed in (`CurrentPrincipal`, `CurrentUser`, `CurrentAdmin`): 401 `unauthorized`;
- signed in and changing state: 403 `csrf_failed` (a cookie sign-in without the CSRF
  header);
- administrators only: 403 `forbidden`;
- taking any parameter or body: 422 `invalid_request`, which also keeps FastAPI from
  declaring its own 422 body (`HTTPValidationError`), one this server never sends;
- taking a body: 400 `bad_request` too, for one that cannot even be decoded as text
  (malformed JSON in readable text is a 422).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_dependant
from fastapi.routing import APIRoute
from starlette.routing import compile_path

from oqto.control.auth.deps import SAFE_METHODS, current_admin, current_principal
from oqto.protocol.errors import RETRYABLE, ErrorCode, ErrorEnvelope, http_status

Responses = dict[int | str, dict[str, Any]]

# The document's own description: what no single operation can say.
DESCRIPTION = """\
Every error is `{"error": code, "message": text}` (`ErrorEnvelope`); `error` is a stable
code to switch on, and each code has one status. Each operation lists the statuses it can
answer and, in `x-error-codes`, the codes under each. Answers that may be retried carry
`Retry-After` (seconds).

Sign in with `POST /api/auth/login`: the token it returns goes in `Authorization: Bearer`,
or the browser keeps it as a cookie, in which case every request that changes state needs
the `X-CSRF-Token` header equal to the `oqto_csrf` cookie.

Before a request reaches any operation, `oqto serve` may refuse the connection itself, in
the same envelope, and close it: 431 `header_too_large`, 408 `header_timeout` (headers too
slow), 429 `too_many_connections` (per client address).
"""

TAGS = [
    {
        "name": "proxy",
        "description": "A session's services, reached through the control plane. The "
        "WebSockets `/api/sessions/{session_id}/terminal` (ttyd, subprotocol `tty`) and "
        "`/api/sessions/{session_id}/agent/{path}` (opencode's PTY API) are not operations "
        "here; an upgrade is refused with the status and envelope a proxied request would "
        "get (401 `unauthorized`, 403 `origin_refused` for a foreign Origin, 404, 409 "
        "`session_not_running`, 503 `session_starting` or `runner_unavailable` with "
        "`Retry-After`).",
    }
]

CODES_KEY = "x-error-codes"

_RETRY_AFTER = {
    "description": "Seconds to wait before trying again.",
    "schema": {"type": "integer", "minimum": 1},
}
# The throttle names its own wait; the retryable codes get a fixed one (`error_response`).
_SENDS_RETRY_AFTER = RETRYABLE | {ErrorCode.TOO_MANY_ATTEMPTS}

# A runner that cannot be reached, is overloaded or answers wrongly, or a Linux account
# re-created under another uid: what any call to a user plane may fail with, whatever it
# was asked.
USER_PLANE = (
    ErrorCode.RUNNER_UNAVAILABLE,
    ErrorCode.TIMEOUT,
    ErrorCode.BUSY,
    ErrorCode.INVALID_MESSAGE,
    ErrorCode.UPSTREAM_REFUSED,
    ErrorCode.ACCOUNT_MISMATCH,
    ErrorCode.INTERNAL,
)


def errors(*codes: ErrorCode) -> Responses:
    """`responses=` for a route that may fail with `codes`, one entry per status."""
    by_status: dict[int, list[ErrorCode]] = {}
    for code in dict.fromkeys(codes):
        by_status.setdefault(http_status(code), []).append(code)
    return {status: _response(status, listed) for status, listed in sorted(by_status.items())}


def _response(status: int, codes: list[ErrorCode]) -> dict[str, Any]:
    names = ", ".join(f"`{code.value}`" for code in codes)
    response: dict[str, Any] = {
        "model": ErrorEnvelope,
        "description": f"{HTTPStatus(status).phrase}: {names}",
        CODES_KEY: [code.value for code in codes],
    }
    if any(code in _SENDS_RETRY_AFTER for code in codes):
        response["headers"] = {"Retry-After": _RETRY_AFTER}
    return response


def _declared_codes(responses: Responses) -> Iterator[ErrorCode]:
    for response in responses.values():
        yield from (ErrorCode(code) for code in response.get(CODES_KEY, ()))


def with_shared(responses: Responses, shared: Iterable[ErrorCode]) -> Responses:
    """`responses` with the `shared` codes merged in, status by status."""
    others = {status: r for status, r in responses.items() if CODES_KEY not in r}
    return others | errors(*_declared_codes(responses), *shared)


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def shared_codes(dependant: Dependant, methods: Iterable[str]) -> list[ErrorCode]:
    """The refusals a route with this dependency tree answering `methods` shares with
    every route of its kind (the list in the module docstring)."""
    tree = list(_dependants(dependant))
    calls = {d.call for d in tree}
    codes = []
    if current_principal in calls:
        codes.append(ErrorCode.UNAUTHORIZED)
        if set(methods) - SAFE_METHODS:
            codes.append(ErrorCode.CSRF_FAILED)
    if current_admin in calls:
        codes.append(ErrorCode.FORBIDDEN)
    takes_input = any(
        d.path_params or d.query_params or d.header_params or d.cookie_params or d.body_params
        for d in tree
    )
    if takes_input:
        codes.append(ErrorCode.INVALID_REQUEST)
    if any(d.body_params for d in tree):
        codes.append(ErrorCode.BAD_REQUEST)
    return codes


class ContractRoute(APIRoute):
    """An API route whose declared responses include the refusals it shares with every
    route of its kind (`shared_codes`). Use as `APIRouter(route_class=ContractRoute)`."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        methods = {m.upper() for m in kwargs.get("methods") or ("GET",)}
        dependant = get_dependant(path=compile_path(path)[1], call=endpoint)
        kwargs["responses"] = with_shared(
            kwargs.get("responses") or {}, shared_codes(dependant, methods)
        )
        super().__init__(path, endpoint, **kwargs)
