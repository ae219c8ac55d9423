"""Password checks as the API routes make them (login, password change, registration): a
throttle slot reserved per (name, client address) first, then the argon2 work through the
bounded `PasswordGate`, the verdict recorded from how the try ended, and each refusal as the
API error a client can act on (429 or 503, both with Retry-After)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from starlette.requests import HTTPConnection

from oqto.control.auth.passwords import PasswordChecksBusy
from oqto.control.auth.proxies import client_address
from oqto.control.auth.ratelimit import Throttled
from oqto.control.context import ControlContext
from oqto.control.errors import ApiError
from oqto.protocol.errors import ErrorCode


def too_many(exc: Throttled, what: str) -> ApiError:
    wait = exc.retry_after_header
    return ApiError(
        ErrorCode.TOO_MANY_ATTEMPTS,
        f"too many failed {what}; try again in {wait} s",
        headers={"Retry-After": wait},
    )


def busy() -> ApiError:
    return ApiError(
        ErrorCode.BUSY,
        "too many password checks at once; try again in a moment",
        headers={"Retry-After": str(PasswordChecksBusy.retry_after)},
    )


# Refusals that mean the guess itself was wrong. Raised inside `attempt`, they count
# against the client; anything else raised there (the check could not be made: busy,
# the helper unreachable) leaves the try uncounted.
WRONG_GUESS = frozenset(
    {ErrorCode.INVALID_CREDENTIALS, ErrorCode.WRONG_PASSWORD, ErrorCode.REGISTRATION_FAILED}
)


@contextmanager
def attempt(ctx: ControlContext, conn: HTTPConnection, name: str, what: str) -> Iterator[None]:
    """One throttled try of `name` from this client, reserved before anything is looked
    up. It succeeds when the block completes and fails when the block raises a
    `WRONG_GUESS` refusal; `what` names the tries in the 429 message."""
    try:
        reserved = ctx.throttle.reserve(name, client_address(conn.scope))
    except Throttled as exc:
        raise too_many(exc, what) from None
    try:
        yield
    except ApiError as exc:
        if exc.code in WRONG_GUESS:
            reserved.failed()
        raise
    else:
        reserved.succeeded()
    finally:
        if not reserved.resolved:
            reserved.release()


def verify(ctx: ControlContext, password_hash: str | None, password: str) -> bool:
    """Blocking; `password_hash=None` (unknown user) costs the same as a real check."""
    try:
        return ctx.password_gate.verify(password_hash, password)
    except PasswordChecksBusy:
        raise busy() from None


def hash_new(ctx: ControlContext, password: str) -> str:
    """Blocking."""
    try:
        return ctx.password_gate.hash(password)
    except PasswordChecksBusy:
        raise busy() from None
