"""Login and logout. A login issues an opaque token, returned in the body for API clients
and set as an HttpOnly cookie for browsers; logout revokes it server-side and ends the
streams and WebSockets opened with it.

A login is throttled per (name, client address) and per address before the password is
checked (`auth.ratelimit`), and the check itself waits for a slot of the bounded
`PasswordGate`; an unknown name is checked against a dummy hash, so it costs the same."""

from __future__ import annotations

import datetime as dt
import secrets

from fastapi import APIRouter, Request, Response
from sqlalchemy import select

from oqto.control.api.contract import ContractRoute, errors
from oqto.control.api.schemas import LoginIn, TokenOut, UserOut
from oqto.control.auth import guard
from oqto.control.auth.deps import CSRF_COOKIE, SESSION_COOKIE, CurrentPrincipal, CurrentUser
from oqto.control.auth.tokens import issue_token, revoke_token
from oqto.control.context import context
from oqto.control.errors import ApiError
from oqto.db.models import TokenKind, User
from oqto.protocol.errors import ErrorCode

router = APIRouter(prefix="/auth", tags=["auth"], route_class=ContractRoute)


def _secure_cookies(request: Request) -> bool:
    configured = context(request).config.auth.cookie_secure
    return request.url.scheme == "https" if configured is None else configured


@router.post(
    "/login",
    response_model=TokenOut,
    responses=errors(ErrorCode.INVALID_CREDENTIALS, ErrorCode.TOO_MANY_ATTEMPTS, ErrorCode.BUSY),
)
def login(body: LoginIn, request: Request, response: Response) -> TokenOut:
    ctx = context(request)
    ttl = dt.timedelta(hours=ctx.config.auth.session_ttl_hours)
    with guard.attempt(ctx, request, body.username, "logins"):
        with ctx.db() as db:
            user = db.scalar(select(User).where(User.username == body.username))
        # Outside any transaction: the slow hash must not hold a database connection.
        ok = guard.verify(ctx, user.password_hash if user else None, body.password)
        if not ok or user is None or user.disabled:
            raise ApiError(ErrorCode.INVALID_CREDENTIALS, "wrong username or password")
        with ctx.db.begin() as db:
            token, row = issue_token(db, user, TokenKind.LOGIN, ttl)
            out_user = UserOut.of(user)
            expires = row.expires_at
    csrf = secrets.token_urlsafe(24)
    secure = _secure_cookies(request)
    max_age = int(ttl.total_seconds())
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        secure=secure,
        samesite="lax",
        path="/",
    )
    response.set_cookie(
        CSRF_COOKIE,
        csrf,
        max_age=max_age,
        httponly=False,
        secure=secure,
        samesite="lax",
        path="/",
    )
    return TokenOut(token=token, expires_at=expires, csrf_token=csrf, user=out_user)


@router.post("/logout", status_code=204)
def logout(principal: CurrentPrincipal, request: Request, response: Response) -> None:
    ctx = context(request)
    with ctx.db.begin() as db:
        revoke_token(db, principal.token.id)
    ctx.live.end_token(principal.token.id)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


@router.get("/me", response_model=UserOut)
def me(user: CurrentUser) -> UserOut:
    return UserOut.of(user)
