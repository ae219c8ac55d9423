"""The one set of error codes every layer speaks, and what each means over HTTP.

A code names what went wrong, not who noticed: the same `session_not_running` comes from a
runner, from the in-process user plane and from the control plane, and a client sees the
same code and status whichever produced it. Codes are stable API: clients switch on them.
Every failure a client sees is `{"error": code, "message": text}` (`ErrorEnvelope`), from
the control plane and from `oqto-files` alike.
"""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse


class ErrorCode(enum.StrEnum):
    # The request itself.
    BAD_REQUEST = "bad_request"
    BODY_NOT_ALLOWED = "body_not_allowed"
    INVALID_REQUEST = "invalid_request"
    TOO_LARGE = "too_large"
    HEADER_TOO_LARGE = "header_too_large"
    HEADER_TIMEOUT = "header_timeout"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    # Who is asking.
    UNAUTHORIZED = "unauthorized"
    INVALID_CREDENTIALS = "invalid_credentials"
    FORBIDDEN = "forbidden"
    CSRF_FAILED = "csrf_failed"
    ORIGIN_REFUSED = "origin_refused"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    TOO_MANY_CONNECTIONS = "too_many_connections"
    # Accounts, tokens, invites.
    WEAK_PASSWORD = "weak_password"
    WRONG_PASSWORD = "wrong_password"
    INVALID_USERNAME = "invalid_username"
    USER_EXISTS = "user_exists"
    OWN_ACCOUNT = "own_account"
    TOO_MANY_TOKENS = "too_many_tokens"
    INVALID_INVITE = "invalid_invite"
    REGISTRATION_FAILED = "registration_failed"
    PROVISIONING_FAILED = "provisioning_failed"
    PROVISIONING_UNAVAILABLE = "usermgr_unavailable"
    SINGLE_USER = "single_user"
    USE_OQTOCTL = "use_oqtoctl"
    ACCOUNT_MISMATCH = "account_mismatch"
    # Sessions and their workspaces.
    INVALID_WORKSPACE = "invalid_workspace"
    PATH_TOO_LONG = "path_too_long"
    TOO_MANY_SESSIONS = "too_many_sessions"
    SESSION_NOT_RUNNING = "session_not_running"
    SESSION_STARTING = "session_starting"
    SESSION_STOPPING = "session_stopping"
    START_FAILED = "start_failed"
    START_CANCELLED = "start_cancelled"
    MISSING_BINARY = "missing_binary"
    SANDBOX_REFUSED = "sandbox_refused"
    # Files in a workspace.
    INVALID_PATH = "invalid_path"
    OUTSIDE_ROOT = "outside_root"
    NOT_A_DIRECTORY = "not_a_directory"
    IS_A_DIRECTORY = "is_a_directory"
    NOT_A_FILE = "not_a_file"
    EXISTS = "exists"
    CONFLICT = "conflict"
    ETAG_MISMATCH = "etag_mismatch"
    NO_SPACE = "no_space"
    IO_ERROR = "io_error"
    # Reaching the user plane and the session services.
    RUNNER_UNAVAILABLE = "runner_unavailable"
    UPSTREAM_REFUSED = "upstream_refused"
    UPSTREAM_UNAVAILABLE = "upstream_unavailable"
    UPSTREAM_TIMEOUT = "upstream_timeout"
    TIMEOUT = "timeout"
    BUSY = "busy"
    # The runner protocol's own framing and handshake.
    BAD_FRAME = "bad_frame"
    FRAME_TOO_LARGE = "frame_too_large"
    INVALID_MESSAGE = "invalid_message"
    INVALID_PARAMS = "invalid_params"
    UNKNOWN_METHOD = "unknown_method"
    UNSUPPORTED_VERSION = "unsupported_version"
    HANDSHAKE_REQUIRED = "handshake_required"
    # Ours, not the client's.
    NOT_BUILT = "not_built"
    INTERNAL = "internal"


_STATUS: dict[ErrorCode, int] = {
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.BODY_NOT_ALLOWED: 400,
    ErrorCode.INVALID_REQUEST: 422,
    ErrorCode.TOO_LARGE: 413,
    ErrorCode.HEADER_TOO_LARGE: 431,
    ErrorCode.HEADER_TIMEOUT: 408,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.INVALID_CREDENTIALS: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.CSRF_FAILED: 403,
    ErrorCode.ORIGIN_REFUSED: 403,
    ErrorCode.TOO_MANY_ATTEMPTS: 429,
    ErrorCode.TOO_MANY_CONNECTIONS: 429,
    ErrorCode.WEAK_PASSWORD: 400,
    # Well-formed, refused for who asks (a failed re-authentication; below, an admin
    # acting on their own account): 403, not 400.
    ErrorCode.WRONG_PASSWORD: 403,
    ErrorCode.INVALID_USERNAME: 400,
    ErrorCode.USER_EXISTS: 409,
    ErrorCode.OWN_ACCOUNT: 403,
    ErrorCode.TOO_MANY_TOKENS: 409,
    ErrorCode.INVALID_INVITE: 400,
    ErrorCode.REGISTRATION_FAILED: 400,
    ErrorCode.PROVISIONING_FAILED: 500,
    ErrorCode.PROVISIONING_UNAVAILABLE: 503,
    ErrorCode.SINGLE_USER: 409,
    ErrorCode.USE_OQTOCTL: 409,
    # The user's Linux account was re-created under another uid: an operator must act.
    ErrorCode.ACCOUNT_MISMATCH: 500,
    ErrorCode.INVALID_WORKSPACE: 400,
    ErrorCode.PATH_TOO_LONG: 400,
    ErrorCode.TOO_MANY_SESSIONS: 409,
    ErrorCode.SESSION_NOT_RUNNING: 409,
    ErrorCode.SESSION_STARTING: 503,
    ErrorCode.SESSION_STOPPING: 409,
    ErrorCode.START_FAILED: 502,
    ErrorCode.START_CANCELLED: 409,
    ErrorCode.MISSING_BINARY: 500,
    # The sandbox policy cannot be read or enforced here: the session does not start
    # unconfined (fail closed); an operator or the workspace's owner must fix the cause.
    ErrorCode.SANDBOX_REFUSED: 500,
    ErrorCode.INVALID_PATH: 400,
    ErrorCode.OUTSIDE_ROOT: 403,
    ErrorCode.NOT_A_DIRECTORY: 400,
    ErrorCode.IS_A_DIRECTORY: 400,
    ErrorCode.NOT_A_FILE: 400,
    ErrorCode.EXISTS: 409,
    ErrorCode.CONFLICT: 409,
    ErrorCode.ETAG_MISMATCH: 412,
    ErrorCode.NO_SPACE: 507,
    ErrorCode.IO_ERROR: 500,
    ErrorCode.RUNNER_UNAVAILABLE: 503,
    ErrorCode.UPSTREAM_REFUSED: 502,
    ErrorCode.UPSTREAM_UNAVAILABLE: 502,
    ErrorCode.UPSTREAM_TIMEOUT: 504,
    ErrorCode.TIMEOUT: 503,
    ErrorCode.BUSY: 503,
    # A runner protocol failure reaching the API means a runner spoke wrongly to us.
    ErrorCode.BAD_FRAME: 502,
    ErrorCode.FRAME_TOO_LARGE: 502,
    ErrorCode.INVALID_MESSAGE: 502,
    ErrorCode.INVALID_PARAMS: 502,
    ErrorCode.UNKNOWN_METHOD: 502,
    ErrorCode.UNSUPPORTED_VERSION: 502,
    ErrorCode.HANDSHAKE_REQUIRED: 502,
    ErrorCode.NOT_BUILT: 503,
    ErrorCode.INTERNAL: 500,
}

# Transient: the client should try again shortly (sent with `Retry-After`).
RETRYABLE = frozenset(
    {
        ErrorCode.SESSION_STARTING,
        ErrorCode.RUNNER_UNAVAILABLE,
        ErrorCode.TIMEOUT,
        ErrorCode.BUSY,
        ErrorCode.TOO_MANY_CONNECTIONS,
        ErrorCode.PROVISIONING_UNAVAILABLE,
    }
)
RETRY_AFTER_SECONDS = 1


def http_status(code: ErrorCode) -> int:
    return _STATUS[code]


def parse_code(code: str) -> ErrorCode:
    """A code received from a peer; one we do not know is `internal`, never passed on."""
    try:
        return ErrorCode(code)
    except ValueError:
        return ErrorCode.INTERNAL


class OqtoError(Exception):
    """Root of every refusal or failure that carries a stable code; `message` is safe to
    show to the client. Layers subclass it; the HTTP boundary maps it with `http_status`."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code.value!r}, {self.message!r})"


class ErrorEnvelope(BaseModel):
    """Every error body the HTTP API and `oqto-files` send."""

    model_config = ConfigDict(extra="forbid")

    error: ErrorCode = Field(description="Stable machine-readable code.")
    message: str = Field(description="Human-readable explanation, safe to show.")


def error_response(
    code: ErrorCode,
    message: str,
    headers: dict[str, str] | None = None,
    *,
    status: int | None = None,
) -> JSONResponse:
    """The one way an HTTP error leaves Oqto. `status` overrides the table only for the
    framework's own errors that carry theirs (a 405 from routing, say)."""
    merged = dict(headers or {})
    if code in RETRYABLE:
        merged.setdefault("Retry-After", str(RETRY_AFTER_SECONDS))
    return JSONResponse(
        {"error": code.value, "message": message},
        status_code=status if status is not None else http_status(code),
        headers=merged or None,
    )
