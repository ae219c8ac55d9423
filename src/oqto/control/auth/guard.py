"""Password checks as the API routes make them: a throttle slot reserved per (name, client
address) first, then the argon2 work through the bounded `PasswordGate`, each refusal as
the API error a client can act on (429 or 503, both with Retry-After)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from starlette.requests import HTTPConnection

from oqto.control.auth.passwords import PasswordChecksBusy
from oqto.control.auth.proxies import client_address
from oqto.control.auth.ratelimit import Attempt, Throttled
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


@contextmanager
def attempt(ctx: ControlContext, conn: HTTPConnection, name: str, what: str) -> Iterator[Attempt]:
    """One throttled try of `name` from this client. Call `failed()` or `succeeded()` on
    it; leaving it unresolved (an error before the verdict) does not count."""
    try:
        reserved = ctx.throttle.reserve(name, client_address(conn.scope))
    except Throttled as exc:
        raise too_many(exc, what) from None
    try:
        yield reserved
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
