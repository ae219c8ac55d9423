"""First start: create the administrator. There is never a default password: it comes from
OQTO_ADMIN_PASSWORD or is generated and shown exactly once."""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DBSession
from sqlalchemy.orm import sessionmaker

from oqto.control.api.schemas import USERNAME_PATTERN
from oqto.control.auth.passwords import hash_password, password_problem
from oqto.control.db.models import Role, User


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
        if not re.match(USERNAME_PATTERN, username):
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
