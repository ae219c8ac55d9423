"""First start: create the administrator. There is never a default password: it comes from
OQTO_ADMIN_PASSWORD or is generated and shown exactly once.

Single-user mode also refuses to start on a database with more than one enabled user
(one left from multi-user mode, say): each of them would run as the server's account."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DBSession
from sqlalchemy.orm import sessionmaker

from oqto.control import singleuser
from oqto.control.auth.passwords import hash_password, password_problem
from oqto.db.models import Role, User
from oqto.protocol.names import is_platform_name


class BootstrapError(Exception):
    pass


@dataclass(frozen=True)
class CreatedAdmin:
    username: str
    generated_password: str | None  # set only when we generated it and must show it


def ensure_admin(db: sessionmaker[DBSession]) -> CreatedAdmin | None:
    with db.begin() as session:
        if session.scalar(select(func.count()).select_from(User)):
            return None
        username = os.environ.get("OQTO_ADMIN_USER", "admin")
        if not is_platform_name(username):
            raise BootstrapError(
                f"OQTO_ADMIN_USER={username!r}: use lower-case letters, digits, '_' or '-'"
            )
        password = os.environ.get("OQTO_ADMIN_PASSWORD")
        generated = None
        if password is None:
            password = generated = secrets.token_urlsafe(18)
        elif problem := password_problem(password):
            raise BootstrapError(f"OQTO_ADMIN_PASSWORD: {problem}")
        session.add(User(username=username, password_hash=hash_password(password), role=Role.ADMIN))
    return CreatedAdmin(username=username, generated_password=generated)


def check_single_user(db: sessionmaker[DBSession]) -> None:
    """Single-user mode has exactly one platform user: refuse a database with more."""
    with db() as session:
        names = list(
            session.scalars(
                select(User.username).where(User.disabled.is_(False)).order_by(User.username)
            )
        )
    if len(names) > 1:
        listed = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
        raise BootstrapError(
            f"the database has {len(names)} enabled users ({listed}). "
            + singleuser.explanation("having more than one user")
            + " Or disable all but one first (oqtoctl user disable NAME)."
        )
