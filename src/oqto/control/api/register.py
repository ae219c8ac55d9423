"""Self-registration with an invite code: `POST /api/auth/register`.

Multi-user mode: the platform user gets a Linux account, set up like `oqtoctl user create`
does it, by the privileged usermgr helper (the control plane itself is unprivileged).
Single-user mode: a database user only. Either way it is all or nothing: the invite use and
the user row are written in one transaction only after the Linux side is ready, and if that
transaction fails the helper is told to undo the Linux side.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DBSession

from oqto.control.api.schemas import USERNAME_PATTERN, UserOut
from oqto.control.auth.passwords import hash_password, password_problem
from oqto.control.context import ControlContext, context
from oqto.control.db.models import User
from oqto.control.errors import ApiError
from oqto.control.invites import InviteError, redeem_invite
from oqto.usermgr.client import UsermgrClient, UsermgrError
from oqto.usermgr.protocol import ProvisionResult

log = logging.getLogger(__name__)
router = APIRouter(prefix="/auth", tags=["auth"])

_UNAVAILABLE = {"usermgr_unavailable", "timeout", "busy", "forbidden"}


class RegisterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(pattern=USERNAME_PATTERN)
    password: str = Field(min_length=1, max_length=1024)
    invite_code: str = Field(min_length=1, max_length=128)


def _throttle_key(client: str) -> str:
    # Not a user name (those cannot contain ':'): failed invite codes count per address.
    return f"register:{client}"


def _precheck(ctx: ControlContext, body: RegisterIn) -> None:
    """Refuse early (before creating anything) if the name is taken or the code is bad."""
    with ctx.db() as db:
        if db.scalar(select(User.id).where(User.username == body.username)) is not None:
            raise ApiError(409, "user_exists", f"user {body.username!r} already exists")
        try:
            redeem_invite(db, body.invite_code)  # a dry run: rolled back below
        except InviteError as exc:
            raise ApiError(400, "invalid_invite", str(exc)) from None
        finally:
            db.rollback()


def _commit(
    ctx: ControlContext, body: RegisterIn, password_hash: str, linux: ProvisionResult | None
) -> UserOut:
    db: DBSession
    with ctx.db.begin() as db:
        invite = redeem_invite(db, body.invite_code)
        user = User(
            username=body.username,
            password_hash=password_hash,
            role=invite.role,
            linux_user=linux.linux_user if linux else None,
            linux_uid=linux.uid if linux else None,
        )
        db.add(user)
        db.flush()
        return UserOut.of(user)


def _status_of(code: str) -> int:
    if code in _UNAVAILABLE:
        return 503
    return 409 if code == "account_exists" else 500


def _helper(ctx: ControlContext) -> UsermgrClient:
    settings = ctx.config.provisioning
    # The helper waits for the runner; give it that long plus the rest of its steps.
    return UsermgrClient(settings.usermgr_socket, settings.runner_start_timeout_seconds * 3 + 60)


@router.post("/register", response_model=UserOut, status_code=201)
async def register(body: RegisterIn, request: Request) -> UserOut:
    ctx = context(request)
    client = request.client.host if request.client else "unknown"
    wait = ctx.throttle.retry_after(_throttle_key(client), client)
    if wait > 0:
        raise ApiError(
            429,
            "too_many_attempts",
            f"too many failed registrations; try again in {int(wait) + 1} s",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    if problem := password_problem(body.password):
        raise ApiError(400, "weak_password", problem)
    try:
        await asyncio.to_thread(_precheck, ctx, body)
    except ApiError as exc:
        if exc.code == "invalid_invite":
            ctx.throttle.record_failure(_throttle_key(client), client)
        raise
    password_hash = await asyncio.to_thread(hash_password, body.password)

    linux: ProvisionResult | None = None
    helper = _helper(ctx)
    if not ctx.single_user:
        try:
            linux = await helper.provision(body.username)
        except UsermgrError as exc:
            raise ApiError(_status_of(exc.code), "provisioning_failed", exc.message) from None
    try:
        return await asyncio.to_thread(_commit, ctx, body, password_hash, linux)
    except (IntegrityError, InviteError) as exc:
        await _undo(helper, body.username, linux)
        if isinstance(exc, InviteError):
            raise ApiError(400, "invalid_invite", str(exc)) from None
        raise ApiError(409, "user_exists", f"user {body.username!r} already exists") from None
    except Exception:
        await _undo(helper, body.username, linux)
        raise


async def _undo(helper: UsermgrClient, username: str, linux: ProvisionResult | None) -> None:
    """The database refused the user: remove the Linux account made for it."""
    if linux is None or linux.rollback_token is None:
        return
    try:
        await helper.rollback(username, linux.rollback_token)
    except UsermgrError as exc:
        # The helper also rolls back on its own when it could not deliver its answer;
        # here it did, so an account is left: say so loudly for the admin.
        log.error(
            "registration of %s failed and its Linux account %s could not be removed: %s",
            username,
            linux.linux_user,
            exc.message,
        )
