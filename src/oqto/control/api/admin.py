"""Administration (admins only): users, invite codes, every user's sessions.

Disabling a user, resetting their password or deleting them also ends their live
connections (`LiveConnections.end_user`); disabling and deleting stop their sessions."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DBSession

from oqto.control import singleuser
from oqto.control.api.contract import USER_PLANE, ContractRoute, errors
from oqto.control.api.schemas import InModel, NewPassword, RowOut, SessionOut, UserCreateIn, UserOut
from oqto.control.auth import guard
from oqto.control.auth.deps import CurrentAdmin
from oqto.control.auth.tokens import revoke_all_for_user
from oqto.control.backends import RunnerBackend
from oqto.control.context import context
from oqto.control.errors import ApiError
from oqto.control.invites import create_invite, list_invites, revoke_invite
from oqto.control.sessions import STOPPED_BY_ADMIN, STOPPED_USER_DELETED, STOPPED_USER_DISABLED
from oqto.db.models import Invite, Role, Session, User
from oqto.protocol.errors import ErrorCode
from oqto.protocol.runner import Empty, Method
from oqto.runner.client import RunnerUserPlane
from oqto.userplane.base import UserPlaneError

router = APIRouter(prefix="/admin", tags=["admin"], route_class=ContractRoute)


class AdminUserOut(UserOut):
    linux_user: str | None

    @classmethod
    def of_admin(cls, user: User) -> AdminUserOut:
        return cls(**UserOut.of(user).model_dump(), linux_user=user.linux_user)


class PasswordResetIn(InModel):
    password: NewPassword


class RunnerHealthOut(BaseModel):
    # in-process: single-user mode, sessions run inside the control plane.
    status: Literal["ok", "unavailable", "in-process"]
    detail: str


class InviteCreateIn(InModel):
    max_uses: int = Field(default=1, ge=1, le=1000)
    # None: never expires.
    expires_in_hours: int | None = Field(default=168, ge=1, le=24 * 365)
    role: Role = Role.USER
    note: str | None = Field(default=None, max_length=256)


class InviteOut(RowOut):
    id: str
    prefix: str
    role: Role
    max_uses: int
    uses: int
    note: str | None
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None


class InviteCreatedOut(BaseModel):
    code: str  # shown once; only its hash is stored
    invite: InviteOut


class AdminSessionOut(SessionOut):
    username: str


# -- users ---------------------------------------------------------------------------------


def _user(db: DBSession, user_id: str) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise ApiError(ErrorCode.NOT_FOUND, "no such user")
    return user


def _not_self(admin: User, user_id: str, action: str) -> None:
    # An administrator locking themselves out leaves nobody to undo it.
    if admin.id == user_id:
        raise ApiError(ErrorCode.OWN_ACCOUNT, f"you cannot {action} your own account")


@router.get("/users", response_model=list[AdminUserOut])
def list_users(_admin: CurrentAdmin, request: Request) -> list[AdminUserOut]:
    with context(request).db() as db:
        return [AdminUserOut.of_admin(u) for u in db.scalars(select(User).order_by(User.username))]


@router.post(
    "/users",
    response_model=AdminUserOut,
    status_code=201,
    responses=errors(ErrorCode.SINGLE_USER, ErrorCode.USER_EXISTS, ErrorCode.BUSY),
)
def create_user(body: UserCreateIn, _admin: CurrentAdmin, request: Request) -> AdminUserOut:
    ctx = context(request)
    if ctx.single_user:
        raise singleuser.refusal("adding a user")
    password_hash = guard.hash_new(ctx, body.password)
    try:
        with ctx.db.begin() as db:
            user = User(username=body.username, password_hash=password_hash, role=body.role)
            db.add(user)
            db.flush()
            return AdminUserOut.of_admin(user)
    except IntegrityError:
        raise ApiError(ErrorCode.USER_EXISTS, f"user {body.username!r} already exists") from None


@router.post(
    "/users/{user_id}/disable",
    response_model=AdminUserOut,
    responses=errors(ErrorCode.OWN_ACCOUNT, ErrorCode.NOT_FOUND),
)
async def disable_user(user_id: str, admin: CurrentAdmin, request: Request) -> AdminUserOut:
    """Signs them out everywhere at once (every token is revoked, not just refused, and
    open streams and terminals end) and stops their sessions."""
    _not_self(admin, user_id, "disable")
    ctx = context(request)

    def disable() -> User:
        with ctx.db.begin() as db:
            user = _user(db, user_id)
            user.disabled = True
            revoke_all_for_user(db, user.id)
            return user

    user = await asyncio.to_thread(disable)
    ctx.live.end_user(user.id)
    await ctx.sessions.stop_all_for(user, STOPPED_USER_DISABLED)
    return AdminUserOut.of_admin(user)


@router.post(
    "/users/{user_id}/enable",
    response_model=AdminUserOut,
    responses=errors(ErrorCode.NOT_FOUND),
)
def enable_user(user_id: str, _admin: CurrentAdmin, request: Request) -> AdminUserOut:
    with context(request).db.begin() as db:
        user = _user(db, user_id)
        user.disabled = False
        return AdminUserOut.of_admin(user)


@router.post(
    "/users/{user_id}/password",
    status_code=204,
    responses=errors(ErrorCode.NOT_FOUND, ErrorCode.BUSY),
)
def reset_password(
    user_id: str, body: PasswordResetIn, _admin: CurrentAdmin, request: Request
) -> None:
    ctx = context(request)
    with ctx.db() as db:
        _user(db, user_id)
    password_hash = guard.hash_new(ctx, body.password)
    with ctx.db.begin() as db:
        user = _user(db, user_id)
        user.password_hash = password_hash
        # Whoever knew the old password may hold a token from it.
        revoke_all_for_user(db, user.id)
    ctx.live.end_user(user_id)


@router.delete(
    "/users/{user_id}",
    status_code=204,
    responses=errors(ErrorCode.OWN_ACCOUNT, ErrorCode.NOT_FOUND, ErrorCode.USE_OQTOCTL),
)
async def delete_user(user_id: str, admin: CurrentAdmin, request: Request) -> None:
    """Only users without a Linux account. Deleting one that has one means removing the
    account, its home and its runner, which needs root: the control plane (account
    `oqto`, unprivileged) refuses and names the `oqtoctl` command that does it all.
    Stops the user's sessions first: deleting the rows alone would orphan processes."""
    _not_self(admin, user_id, "delete")
    ctx = context(request)

    def load() -> User:
        with ctx.db() as db:
            return _user(db, user_id)

    user = await asyncio.to_thread(load)
    if user.linux_user is not None:
        raise ApiError(
            ErrorCode.USE_OQTOCTL,
            f"user {user.username!r} has the Linux account {user.linux_user!r}; deleting it "
            f"(account, home, runner) needs root: run `sudo oqtoctl user delete "
            f"{user.username}` on the server (add --keep-home to keep the home), or disable "
            "the user here instead",
        )
    await ctx.sessions.stop_all_for(user, STOPPED_USER_DELETED)

    def remove() -> None:
        with ctx.db.begin() as db:
            found = db.get(User, user_id)
            if found is not None:
                db.delete(found)

    await asyncio.to_thread(remove)
    ctx.live.end_user(user_id)


@router.get(
    "/users/{user_id}/runner",
    response_model=RunnerHealthOut,
    responses=errors(ErrorCode.NOT_FOUND),
)
async def runner_health(user_id: str, _admin: CurrentAdmin, request: Request) -> RunnerHealthOut:
    ctx = context(request)

    def load() -> User:
        with ctx.db() as db:
            return _user(db, user_id)

    user = await asyncio.to_thread(load)
    backend = request.app.state.backend
    if not isinstance(backend, RunnerBackend):
        return RunnerHealthOut(
            status="in-process", detail="single-user mode: sessions run inside the server"
        )
    try:
        plane = backend.pool.userplane_for(user)
        assert isinstance(plane, RunnerUserPlane)
        result = await plane.client.call(Method.PING, Empty())
    except UserPlaneError as exc:
        return RunnerHealthOut(status="unavailable", detail=exc.message)
    return RunnerHealthOut(status="ok", detail=f"runner {result.version}, uid {result.uid}")


# -- invites -------------------------------------------------------------------------------


@router.get("/invites", response_model=list[InviteOut])
def get_invites(_admin: CurrentAdmin, request: Request) -> list[InviteOut]:
    with context(request).db() as db:
        return [InviteOut.of(row) for row in list_invites(db)]


@router.post(
    "/invites",
    response_model=InviteCreatedOut,
    status_code=201,
    responses=errors(ErrorCode.SINGLE_USER),
)
def post_invite(body: InviteCreateIn, admin: CurrentAdmin, request: Request) -> InviteCreatedOut:
    ctx = context(request)
    if ctx.single_user:
        raise singleuser.refusal("inviting a user")
    expires = dt.timedelta(hours=body.expires_in_hours) if body.expires_in_hours else None
    with ctx.db.begin() as db:
        code, row = create_invite(
            db,
            created_by=admin.id,
            max_uses=body.max_uses,
            expires_in=expires,
            role=body.role,
            note=body.note or None,
        )
        return InviteCreatedOut(code=code, invite=InviteOut.of(row))


@router.delete(
    "/invites/{invite_id}",
    status_code=204,
    responses=errors(ErrorCode.NOT_FOUND),
)
def delete_invite(invite_id: str, _admin: CurrentAdmin, request: Request) -> None:
    """Revokes the code; the row stays so its use is still on record."""
    with context(request).db.begin() as db:
        if db.get(Invite, invite_id) is None:
            raise ApiError(ErrorCode.NOT_FOUND, "no such invite")
        revoke_invite(db, invite_id)


# -- everyone's sessions -------------------------------------------------------------------


@router.get("/sessions", response_model=list[AdminSessionOut])
def all_sessions(_admin: CurrentAdmin, request: Request) -> list[AdminSessionOut]:
    ctx = context(request)
    with ctx.db() as db:
        rows = db.execute(
            select(Session, User.username)
            .join(User, User.id == Session.user_id)
            .order_by(Session.created_at.desc())
        )
        return [
            AdminSessionOut(**SessionOut.of(row, ctx.sessions).model_dump(), username=username)
            for row, username in rows
        ]


@router.post(
    "/sessions/{session_id}/stop",
    response_model=AdminSessionOut,
    responses=errors(ErrorCode.NOT_FOUND, *USER_PLANE),
)
async def force_stop(session_id: str, _admin: CurrentAdmin, request: Request) -> AdminSessionOut:
    """Stops anyone's session, through the same path as its owner's own stop."""
    ctx = context(request)

    def owner() -> User:
        with ctx.db() as db:
            row = db.get(Session, session_id)
            if row is None:
                raise ApiError(ErrorCode.NOT_FOUND, "no such session")
            return _user(db, row.user_id)

    user = await asyncio.to_thread(owner)
    row = await ctx.sessions.stop(user, session_id, STOPPED_BY_ADMIN)
    return AdminSessionOut(**SessionOut.of(row, ctx.sessions).model_dump(), username=user.username)
