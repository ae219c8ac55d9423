"""User administration (admins only)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from oqto.control.api.schemas import UserCreateIn, UserOut
from oqto.control.auth.deps import CurrentAdmin
from oqto.control.auth.passwords import hash_password, password_problem
from oqto.control.context import context
from oqto.control.db.models import User
from oqto.control.errors import ApiError

router = APIRouter(prefix="/admin/users", tags=["admin"])


@router.get("", response_model=list[UserOut])
def list_users(_admin: CurrentAdmin, request: Request) -> list[UserOut]:
    with context(request).db() as db:
        return [UserOut.of(u) for u in db.scalars(select(User).order_by(User.username))]


@router.post("", response_model=UserOut, status_code=201)
def create_user(body: UserCreateIn, _admin: CurrentAdmin, request: Request) -> UserOut:
    problem = password_problem(body.password)
    if problem:
        raise ApiError(400, "weak_password", problem)
    try:
        with context(request).db.begin() as db:
            user = User(
                username=body.username, password_hash=hash_password(body.password), role=body.role
            )
            db.add(user)
            db.flush()
            return UserOut.of(user)
    except IntegrityError:
        raise ApiError(409, "user_exists", f"user {body.username!r} already exists") from None
