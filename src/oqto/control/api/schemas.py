"""Request and response bodies of the public API."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from oqto.control.auth.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from oqto.db.models import Role, SessionStatus
from oqto.protocol.names import PLATFORM_NAME_PATTERN

if TYPE_CHECKING:
    from oqto.control.sessions import SessionService
from oqto.protocol.sessions import (
    MAX_WORKSPACE_DEPTH,
    SandboxReport,
    ServiceProgress,
    WorkspaceNameError,
    check_workspace_name,
)

# A password being set: all of `password_problem`'s rules, as the schema says them.
NewPassword = Annotated[
    str,
    Field(
        min_length=MIN_PASSWORD_LENGTH,
        max_length=MAX_PASSWORD_LENGTH,
        description=f"At least {MIN_PASSWORD_LENGTH} characters.",
    ),
]
# A password being checked: whatever it was set to.
Password = Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)]

# A workspace name in the form `check_workspace_name` returns it: up to
# MAX_WORKSPACE_DEPTH segments joined by '/', each of letters, digits, '.', '_', '-' and
# spaces, 1-64 long, not starting with '.', '-' or a space nor ending with '.' or a space.
_SEGMENT = r"[A-Za-z0-9_](?:[A-Za-z0-9._ -]{0,62}[A-Za-z0-9_-])?"
WORKSPACE_PATTERN = rf"^{_SEGMENT}(?:/{_SEGMENT}){{0,{MAX_WORKSPACE_DEPTH - 1}}}$"


def _workspace_name(name: str) -> str:
    # The rule itself decides (the schema's pattern says the same for clients), so a
    # refusal says what is wrong with the name rather than quoting a regular expression.
    try:
        normal = check_workspace_name(name)
    except WorkspaceNameError as exc:
        raise PydanticCustomError("invalid_workspace", str(exc)) from None
    if normal != name:
        raise PydanticCustomError(
            "invalid_workspace", f"invalid workspace name {name!r}: write it as {normal!r}"
        )
    return name


WorkspaceName = Annotated[
    str,
    AfterValidator(_workspace_name),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": WORKSPACE_PATTERN,
            "description": "`name` or `group/name` (at most "
            f"{MAX_WORKSPACE_DEPTH} levels), relative to the owner's workspace root; each "
            "level 1-64 letters, digits, '.', '_', '-' or spaces, not starting with '.', '-' "
            "or a space nor ending with '.' or a space.",
        }
    ),
]


class InModel(BaseModel):
    """A request body: a field the server does not know is refused, not ignored (a typo
    must not silently fall back to a default)."""

    model_config = ConfigDict(extra="forbid")


class LoginIn(InModel):
    username: str = Field(min_length=1, max_length=64)
    password: Password


class TokenOut(BaseModel):
    token: str
    token_type: Literal["bearer"] = "bearer"
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
    password: NewPassword
    role: Role = Role.USER


class SessionCreateIn(InModel):
    workspace: WorkspaceName


class SessionOut(RowOut):
    id: str
    workspace: str
    status: SessionStatus
    error: str | None = Field(
        description="Why the session is not running: what failed, or why it was stopped "
        "(`stopped by its owner`, `stopped by an administrator`, `its user was disabled`, "
        "`stopped with the server`...). Null while it starts or runs."
    )
    sandbox: SandboxReport | None = Field(
        description="How the session's latest run is (or was) confined, as its user plane "
        "enforces it: `enabled` false means unsandboxed. Null until it first runs, while it "
        "starts again, and when its user plane does not report a sandbox."
    )
    created_at: dt.datetime
    updated_at: dt.datetime
    ready_after: dict[str, float] | None = Field(
        default=None,
        description="Seconds from start to answering, per service (agent, files, terminal), "
        "for the current run; null when unknown (not running, or started before the server "
        "last restarted).",
    )
    last_active_at: dt.datetime | None = Field(
        default=None,
        description="The last request to the session's services through the server (kept "
        "across restarts); null if it was never used.",
    )
    progress: list[ServiceProgress] | None = Field(
        default=None,
        description="Per service (agent, files, terminal), how far the current start got: "
        "`waiting`, `started` (its process runs), `ready` (it answers; with `ready_after`) "
        "or `failed`. Kept after a failed start, to show which service failed; null while "
        "running or stopped, and for a start begun before the server last restarted.",
    )

    @classmethod
    def of(cls, row: object, sessions: SessionService | None = None) -> Self:
        out = cls.model_validate(row)
        if sessions is None:
            return out
        facts = sessions.facts(out.id)
        return out.model_copy(
            update={
                "ready_after": facts.ready_after,
                # Memory is ahead of the row until the next flush.
                "last_active_at": facts.last_active_at or out.last_active_at,
                "progress": facts.progress,
            }
        )


class HealthOut(BaseModel):
    status: Literal["ok"]
    version: str
    mode: Literal["single-user", "multi-user"]
