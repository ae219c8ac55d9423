"""Request and response bodies of the public API."""

from __future__ import annotations

import datetime as dt
from typing import Self

from pydantic import BaseModel, ConfigDict, Field

from oqto.db.models import Role, SessionStatus
from oqto.protocol.names import PLATFORM_NAME_PATTERN


class InModel(BaseModel):
    """A request body: a field the server does not know is refused, not ignored (a typo
    must not silently fall back to a default)."""

    model_config = ConfigDict(extra="forbid")


class LoginIn(InModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class TokenOut(BaseModel):
    token: str
    token_type: str = "bearer"
    expires_at: dt.datetime | None
    csrf_token: str
    user: UserOut


class RowOut(BaseModel):
    """A response read straight from a database row's attributes (no field-by-field copy)."""

    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def of(cls, row: object) -> Self:
        return cls.model_validate(row)


class UserOut(RowOut):
    id: str
    username: str
    role: Role
    disabled: bool
    created_at: dt.datetime


class UserCreateIn(InModel):
    username: str = Field(pattern=PLATFORM_NAME_PATTERN)
    password: str = Field(min_length=8, max_length=1024)
    role: Role = Role.USER


class SessionCreateIn(InModel):
    workspace: str = Field(min_length=1, max_length=255)


class SessionOut(RowOut):
    id: str
    workspace: str
    status: SessionStatus
    error: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class HealthOut(BaseModel):
    status: str
    version: str
    mode: str
