"""The framework's own refusals (routing's 404 and 405, request validation) and any
unexpected error (500 internal, details only in the log) in the one
envelope (`oqto.protocol.errors`), for every Oqto FastAPI app: the control plane and
`oqto-files` answer them alike, a 405 with every method the path serves in `Allow`."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from oqto.protocol.errors import ErrorCode, error_response

log = logging.getLogger(__name__)
_FRAMEWORK_CODES = {404: ErrorCode.NOT_FOUND, 405: ErrorCode.METHOD_NOT_ALLOWED}
# The methods a route may serve, in the order `Allow` lists them.
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        loc = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
        parts.append(f"{loc}: {error.get('msg')}" if loc else str(error.get("msg")))
    return "; ".join(parts) or "invalid request"


def _allowed(request: Request) -> str:
    """Every method some route serves at this path. Routing's own `Allow` names only the
    first route whose path matched, and a path often has one route per method."""

    def served(method: str) -> bool:
        probe = {**request.scope, "method": method}
        return any(route.matches(probe)[0] is Match.FULL for route in request.app.router.routes)

    return ", ".join(method for method in HTTP_METHODS if served(method))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _FRAMEWORK_CODES.get(exc.status_code, ErrorCode.BAD_REQUEST)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed(request)
    return error_response(code, str(exc.detail), headers, status=exc.status_code)


async def _invalid(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(ErrorCode.INVALID_REQUEST, _validation_message(exc))


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    # A bug is still an answer in the envelope; its details go to the log, not the client.
    log.error("unhandled error", exc_info=exc)
    return error_response(ErrorCode.INTERNAL, "internal server error")


def install_framework_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(Exception, _unexpected)
