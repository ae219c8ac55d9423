"""Self-registration with an invite code: `POST /api/auth/register`.

The platform user gets a Linux account, set up like `oqtoctl user create` does it, by the
privileged usermgr helper (the control plane itself is unprivileged). It is all or
nothing: the invite use and the user row are written in one transaction only after the
Linux side is ready, and if that transaction fails the helper is told to undo the Linux
side. Single-user mode refuses: it has exactly one platform user (`oqto.control.singleuser`).

Registration must not tell a stranger which names exist: the invite is checked first, and
a bad invite, a taken name and an existing Linux account all get the same answer
(`registration_failed`). Every such failure counts against the client's address in the
login throttle, reserved before anything is looked up.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DBSession

from oqto.control import singleuser
from oqto.control.api.contract import ContractRoute, errors
from oqto.control.api.schemas import InModel, NewPassword, UserOut
from oqto.control.auth import guard
from oqto.control.context import ControlContext, context
from oqto.control.errors import ApiError
from oqto.control.invites import InviteError, redeem_invite
from oqto.db.models import User
from oqto.osutil.accounts import lookup
from oqto.protocol.errors import ErrorCode
from oqto.protocol.names import LINUX_NAME_MAX, PLATFORM_NAME_PATTERN, NamingError, linux_name_for
from oqto.usermgr.client import UsermgrClient, UsermgrError
from oqto.usermgr.protocol import ProvisionResult

log = logging.getLogger(__name__)
router = APIRouter(prefix="/auth", tags=["auth"], route_class=ContractRoute)

_UNAVAILABLE = {"usermgr_unavailable", "timeout", "busy", "forbidden"}
# The throttle's name for registrations (no user name contains ':').
THROTTLE_NAME = "register:"


class RegisterIn(InModel):
    username: str = Field(
        pattern=PLATFORM_NAME_PATTERN,
        max_length=LINUX_NAME_MAX,
        description="Lower-case letters, digits, '_' and '-', starting with a letter; at "
        "most 32 characters minus the length of `[provisioning] linux_user_prefix` "
        "(27 with the default prefix `oqto_`), since prefix + name is the Linux account.",
    )
    password: NewPassword
    invite_code: str = Field(min_length=1, max_length=128)


class RegistrationRefused(Exception):
    """Bad invite, taken name or existing account: the caller must not learn which."""


def refused() -> ApiError:
    return ApiError(ErrorCode.REGISTRATION_FAILED, "invite code invalid or name not available")


def _check_name_length(ctx: ControlContext, username: str) -> None:
    prefix = ctx.config.provisioning.linux_user_prefix
    limit = LINUX_NAME_MAX - len(prefix)
    if len(username) > limit:
        raise ApiError(
            ErrorCode.INVALID_USERNAME,
            f"user names can have at most {limit} characters here: the Linux account is "
            f"{prefix!r} + the name, and Linux account names have at most {LINUX_NAME_MAX}",
        )


def _precheck(ctx: ControlContext, body: RegisterIn) -> None:
    """Refuse early (before creating anything): the invite first, then the name, then its
    Linux account. Raises `RegistrationRefused` for all three alike."""
    with ctx.db() as db:
        try:
            redeem_invite(db, body.invite_code)  # a dry run: rolled back below
        except InviteError:
            raise RegistrationRefused from None
        finally:
            db.rollback()
        if db.scalar(select(User.id).where(User.username == body.username)) is not None:
            raise RegistrationRefused
    try:
        account = linux_name_for(body.username, ctx.config.provisioning.linux_user_prefix)
    except NamingError:
        raise RegistrationRefused from None
    # The helper refuses an existing account too; asking here keeps it from being told.
    if lookup(account) is not None:
        raise RegistrationRefused


def _commit(
    ctx: ControlContext, body: RegisterIn, password_hash: str, linux: ProvisionResult
) -> UserOut:
    db: DBSession
    with ctx.db.begin() as db:
        invite = redeem_invite(db, body.invite_code)
        user = User(
            username=body.username,
            password_hash=password_hash,
            role=invite.role,
            linux_user=linux.linux_user,
            linux_uid=linux.uid,
        )
        db.add(user)
        db.flush()
        return UserOut.of(user)


def _provisioning_error(exc: UsermgrError) -> ApiError:
    if exc.code in _UNAVAILABLE:
        return ApiError(ErrorCode.PROVISIONING_UNAVAILABLE, exc.message)
    if exc.code == "invalid_request":
        return ApiError(ErrorCode.INVALID_USERNAME, exc.message)
    return ApiError(ErrorCode.PROVISIONING_FAILED, exc.message)


def _helper(ctx: ControlContext) -> UsermgrClient:
    settings = ctx.config.provisioning
    # The helper waits for the runner; give it that long plus the rest of its steps.
    return UsermgrClient(settings.usermgr_socket, settings.runner_start_timeout_seconds * 3 + 60)


@router.post(
    "/register",
    response_model=UserOut,
    status_code=201,
    responses=errors(
        ErrorCode.SINGLE_USER,
        ErrorCode.INVALID_USERNAME,
        ErrorCode.REGISTRATION_FAILED,
        ErrorCode.TOO_MANY_ATTEMPTS,
        ErrorCode.BUSY,
        ErrorCode.PROVISIONING_UNAVAILABLE,
        ErrorCode.PROVISIONING_FAILED,
    ),
)
async def register(body: RegisterIn, request: Request) -> UserOut:
    ctx = context(request)
    if ctx.single_user:
        raise singleuser.refusal("registering a user")
    _check_name_length(ctx, body.username)
    with guard.attempt(ctx, request, THROTTLE_NAME, "registrations"):
        try:
            await asyncio.to_thread(_precheck, ctx, body)
        except RegistrationRefused:
            raise refused() from None
        password_hash = await asyncio.to_thread(guard.hash_new, ctx, body.password)

        helper = _helper(ctx)
        try:
            linux = await helper.provision(body.username)
        except UsermgrError as exc:
            if exc.code == "account_exists":
                raise refused() from None
            raise _provisioning_error(exc) from None
        try:
            user = await asyncio.to_thread(_commit, ctx, body, password_hash, linux)
        except (IntegrityError, InviteError):
            # Someone took the name or the last use of the code meanwhile.
            await _undo(helper, body.username, linux)
            raise refused() from None
        except Exception:
            await _undo(helper, body.username, linux)
            raise
        return user


async def _undo(helper: UsermgrClient, username: str, linux: ProvisionResult) -> None:
    """The database refused the user: remove the Linux account made for it."""
    if linux.rollback_token is None:
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
