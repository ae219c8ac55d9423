"""The HTTP boundary of the error model: every `OqtoError` that reaches it (a route's
`ApiError`, a `SessionError`, a `UserPlaneError` from a user plane or a runner) leaves as
the shared envelope (`oqto.protocol.errors`), with the status its code has everywhere."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from oqto.httperrors import install_framework_handlers
from oqto.protocol.errors import ErrorCode, OqtoError, error_response


class ApiError(OqtoError):
    """A refusal raised by a route; `headers` go out with the error (e.g. Retry-After)."""

    def __init__(
        self, code: ErrorCode, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(code, message)
        self.headers = headers


def response_for(exc: OqtoError) -> JSONResponse:
    """The HTTP answer to `exc`: for a route's error, and for a refused WebSocket upgrade."""
    headers = exc.headers if isinstance(exc, ApiError) else None
    return error_response(exc.code, exc.message, headers)


async def _oqto_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OqtoError)
    return response_for(exc)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(OqtoError, _oqto_error)
    install_framework_handlers(app)
