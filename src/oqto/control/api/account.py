"""The signed-in user's own account: password and personal API tokens."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select, update

from oqto.control.api.contract import ContractRoute, errors
from oqto.control.api.schemas import InModel, NewPassword, Password, RowOut
from oqto.control.auth import guard
from oqto.control.auth.deps import CurrentPrincipal, CurrentUser
from oqto.control.auth.tokens import issue_token, revoke_token
from oqto.control.context import context
from oqto.control.errors import ApiError
from oqto.db.locks import lock_user_row
from oqto.db.models import AuthToken, TokenKind, User, utcnow
from oqto.protocol.errors import ErrorCode

router = APIRouter(prefix="/account", tags=["account"], route_class=ContractRoute)

MAX_API_TOKENS = 50


class PasswordChangeIn(InModel):
    current_password: Password
    new_password: NewPassword


class ApiTokenCreateIn(InModel):
    name: str = Field(min_length=1, max_length=128)
    # None: never expires.
    expires_in_days: int | None = Field(default=90, ge=1, le=3650)


class ApiTokenOut(RowOut):
    id: str
    name: str | None
    created_at: dt.datetime
    expires_at: dt.datetime | None


class ApiTokenCreatedOut(BaseModel):
    token: str  # shown once; only its hash is stored
    info: ApiTokenOut


@router.post(
    "/password",
    status_code=204,
    responses=errors(ErrorCode.WRONG_PASSWORD, ErrorCode.TOO_MANY_ATTEMPTS, ErrorCode.BUSY),
)
def change_password(body: PasswordChangeIn, principal: CurrentPrincipal, request: Request) -> None:
    """Every other token of the user is revoked (other browsers, API tokens): whoever may
    have learnt the old password may also hold one. The calling session stays signed in."""
    ctx = context(request)
    # Guessing the current password here is throttled like a login.
    with guard.attempt(ctx, request, principal.user.username, "attempts"):
        with ctx.db() as db:
            user = db.get(User, principal.user.id)
        if user is None or not guard.verify(ctx, user.password_hash, body.current_password):
            raise ApiError(ErrorCode.WRONG_PASSWORD, "the current password is wrong")
        new_hash = guard.hash_new(ctx, body.new_password)
        with ctx.db.begin() as db:
            db.execute(update(User).where(User.id == user.id).values(password_hash=new_hash))
            revoked = db.scalars(
                update(AuthToken)
                .where(
                    AuthToken.user_id == user.id,
                    AuthToken.id != principal.token.id,
                    AuthToken.revoked_at.is_(None),
                )
                .values(revoked_at=utcnow())
                .returning(AuthToken.id)
            ).all()
    for token_id in revoked:
        ctx.live.end_token(token_id)


def _live_api_tokens(user: User) -> Select[AuthToken]:
    return (
        select(AuthToken)
        .where(
            AuthToken.user_id == user.id,
            AuthToken.kind == TokenKind.API,
            AuthToken.revoked_at.is_(None),
        )
        .order_by(AuthToken.created_at.desc())
    )


@router.get("/tokens", response_model=list[ApiTokenOut])
def list_tokens(user: CurrentUser, request: Request) -> list[ApiTokenOut]:
    now = utcnow()
    with context(request).db() as db:
        return [
            ApiTokenOut.of(row)
            for row in db.scalars(_live_api_tokens(user))
            if row.expires_at is None or row.expires_at > now
        ]


@router.post(
    "/tokens",
    response_model=ApiTokenCreatedOut,
    status_code=201,
    responses=errors(ErrorCode.TOO_MANY_TOKENS),
)
def create_token(body: ApiTokenCreateIn, user: CurrentUser, request: Request) -> ApiTokenCreatedOut:
    ttl = dt.timedelta(days=body.expires_in_days) if body.expires_in_days else None
    with context(request).db.begin() as db:
        # Count and insert under the user's row lock: concurrent creates are serialised,
        # so the cap holds (otherwise each counts 49 and all of them insert).
        lock_user_row(db, user.id)
        live = db.scalar(
            select(func.count())
            .select_from(AuthToken)
            .where(
                AuthToken.user_id == user.id,
                AuthToken.kind == TokenKind.API,
                AuthToken.revoked_at.is_(None),
                AuthToken.expires_at.is_(None) | (AuthToken.expires_at > utcnow()),
            )
        )
        if (live or 0) >= MAX_API_TOKENS:
            raise ApiError(ErrorCode.TOO_MANY_TOKENS, f"at most {MAX_API_TOKENS} API tokens")
        token, row = issue_token(db, user, TokenKind.API, ttl, name=body.name)
        return ApiTokenCreatedOut(token=token, info=ApiTokenOut.of(row))


@router.delete("/tokens/{token_id}", status_code=204, responses=errors(ErrorCode.NOT_FOUND))
def delete_token(token_id: str, user: CurrentUser, request: Request) -> None:
    ctx = context(request)
    with ctx.db.begin() as db:
        row = db.get(AuthToken, token_id)
        # Someone else's token id is reported like a missing one.
        if row is None or row.user_id != user.id or row.kind is not TokenKind.API:
            raise ApiError(ErrorCode.NOT_FOUND, "no such API token")
        revoke_token(db, row.id)
    ctx.live.end_token(token_id)
