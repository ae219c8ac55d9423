"""Login and logout. A login issues an opaque token, returned in the body for API clients
and set as an HttpOnly cookie for browsers; logout revokes it server-side."""

from __future__ import annotations

import datetime as dt
import secrets

from fastapi import APIRouter, Request, Response
from sqlalchemy import select

from oqto.control.api.schemas import LoginIn, TokenOut, UserOut
from oqto.control.auth.deps import CSRF_COOKIE, SESSION_COOKIE, CurrentPrincipal, CurrentUser
from oqto.control.auth.passwords import verify_password
from oqto.control.auth.tokens import issue_token, revoke_token
from oqto.control.context import context
from oqto.control.db.models import TokenKind, User
from oqto.control.errors import ApiError

router = APIRouter(prefix="/auth", tags=["auth"])


def _secure_cookies(request: Request) -> bool:
    configured = context(request).config.auth.cookie_secure
    return request.url.scheme == "https" if configured is None else configured


@router.post("/login", response_model=TokenOut)
def login(body: LoginIn, request: Request, response: Response) -> TokenOut:
    ctx = context(request)
    client = request.client.host if request.client else "unknown"
    wait = ctx.throttle.retry_after(body.username, client)
    if wait > 0:
        raise ApiError(
            429,
            "too_many_attempts",
            f"too many failed logins; try again in {int(wait) + 1} s",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    ttl = dt.timedelta(hours=ctx.config.auth.session_ttl_hours)
    with ctx.db.begin() as db:
        user = db.scalar(select(User).where(User.username == body.username))
        ok = verify_password(user.password_hash if user else None, body.password)
        if not ok or user is None or user.disabled:
            ctx.throttle.record_failure(body.username, client)
            raise ApiError(401, "invalid_credentials", "wrong username or password")
        token, row = issue_token(db, user, TokenKind.LOGIN, ttl)
        out_user = UserOut.of(user)
        expires = row.expires_at
    ctx.throttle.reset(body.username)
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
    with context(request).db.begin() as db:
        revoke_token(db, principal.token.id)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


@router.get("/me", response_model=UserOut)
def me(user: CurrentUser) -> UserOut:
    return UserOut.of(user)
