"""Who is calling: FastAPI dependencies for HTTP routes, and the same check for WebSockets.

Credentials come from `Authorization: Bearer <token>` (API clients) or the HttpOnly
session cookie (browsers). Cookie-authenticated requests that change state must also
carry `X-CSRF-Token` equal to the readable CSRF cookie (double submit): another site can
make the browser send the cookie, but cannot read the CSRF cookie to copy it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from oqto.control.auth.tokens import resolve_digest, resolve_token, token_digest, well_formed
from oqto.control.context import context
from oqto.control.errors import ApiError
from oqto.db.models import AuthToken, Role, User
from oqto.protocol.errors import ErrorCode

SESSION_COOKIE = "oqto_session"
CSRF_COOKIE = "oqto_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Principal:
    user: User
    token: AuthToken
    via_cookie: bool


def _credentials(conn: HTTPConnection, *, basic: bool = False) -> tuple[str, bool] | None:
    header = conn.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), False
    if basic and scheme.lower() == "basic" and _not_cross_site(conn):
        password = _basic_password(value.strip())
        if password:
            return password, False
    cookie = conn.cookies.get(SESSION_COOKIE)
    if cookie:
        return cookie, True
    return None


def _basic_password(value: str) -> str | None:
    """The password of HTTP Basic credentials (opencode's clients send the token there,
    with a user name of their own choosing, which is ignored)."""
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    _user, colon, password = decoded.partition(":")
    return password if colon else None


def _not_cross_site(conn: HTTPConnection) -> bool:
    """A browser may send Basic credentials it once saw on its own, like a cookie; it also
    marks every request with Sec-Fetch-Site, so one another site caused is refused Basic.
    opencode's CLI sends no such header."""
    return conn.headers.get("sec-fetch-site", "none") in ("none", "same-origin")


def unauthorized() -> ApiError:
    return ApiError(
        ErrorCode.UNAUTHORIZED, "authentication required", headers={"WWW-Authenticate": "Bearer"}
    )


def authenticate(conn: HTTPConnection) -> Principal:
    """Blocking (one indexed query); FastAPI runs sync dependencies in a worker thread."""
    found = _credentials(conn)
    if found is None:
        raise unauthorized()
    token, via_cookie = found
    with context(conn).db() as db:
        resolved = resolve_token(db, token)
        if resolved is None:
            raise unauthorized()
        user, row = resolved
    # Read by the request-log middleware.
    conn.scope.setdefault("state", {})["username"] = user.username
    return Principal(user=user, token=row, via_cookie=via_cookie)


async def authenticate_cached(conn: HTTPConnection, *, basic: bool = False) -> Principal:
    """`authenticate` for the data plane's hot path: the sign-in comes from the in-memory
    `TokenCache` (see there for when an entry goes), the database is read only on a miss,
    and nothing blocks the event loop. `basic`: also take a token as the password of HTTP
    Basic credentials (the agent's routes: `opencode attach` and `opencode run --attach`
    send nothing else)."""
    found = _credentials(conn, basic=basic)
    if found is None or not well_formed(found[0]):
        raise unauthorized()
    token, via_cookie = found
    ctx = context(conn)
    digest = token_digest(token)
    sign_in = ctx.tokens.get(digest)
    if sign_in is None:
        generation = ctx.tokens.begin()

        def read() -> tuple[User, AuthToken] | None:
            with ctx.db() as db:
                return resolve_digest(db, digest)

        sign_in = await asyncio.to_thread(read)
        if sign_in is None:
            raise unauthorized()
        ctx.tokens.put(digest, sign_in, generation)
    user, row = sign_in
    conn.scope.setdefault("state", {})["username"] = user.username
    return Principal(user=user, token=row, via_cookie=via_cookie)


def check_csrf(conn: HTTPConnection, principal: Principal) -> None:
    if not principal.via_cookie or conn.scope["method"] in SAFE_METHODS:
        return
    sent = conn.headers.get(CSRF_HEADER, "")
    expected = conn.cookies.get(CSRF_COOKIE, "")
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise ApiError(ErrorCode.CSRF_FAILED, "missing or wrong X-CSRF-Token header")


def current_principal(request: Request) -> Principal:
    principal = authenticate(request)
    check_csrf(request, principal)
    return principal


def current_user(principal: Annotated[Principal, Depends(current_principal)]) -> User:
    return principal.user


def current_admin(user: Annotated[User, Depends(current_user)]) -> User:
    if user.role is not Role.ADMIN:
        raise ApiError(ErrorCode.FORBIDDEN, "administrator role required")
    return user


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
CurrentUser = Annotated[User, Depends(current_user)]
CurrentAdmin = Annotated[User, Depends(current_admin)]
