"""The effective sandbox policy of one session: what the user plane enforces.

Everything here is already resolved (profiles merged, overlays applied, `~` expanded):
the enforcement code never reads a file or a profile name to decide what to allow.
"""

from __future__ import annotations

import enum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from oqto.protocol.errors import ErrorCode
from oqto.userplane.base import UserPlaneError


class NetworkMode(enum.StrEnum):
    """From widest to narrowest: an overlay may only move right."""

    HOST = "host"  # the host's network, as without a sandbox
    ALLOWLIST = "allowlist"  # own namespace; out only through the allow-list proxy
    NONE = "none"  # own namespace, loopback only

    @property
    def narrowness(self) -> int:
        return list(NetworkMode).index(self)


class Limits(BaseModel):
    """Per-session resource limits (cgroups). None = no limit of that kind."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    memory_max: int | None = Field(default=None, gt=0)  # bytes
    tasks_max: int | None = Field(default=None, gt=0)
    cpu_weight: int | None = Field(default=None, ge=1, le=10_000)
    # True: a session refuses to start where these cannot be enforced (fail closed).
    # False: it starts and says that they are not enforced.
    required: bool = False

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.memory_max, self.tasks_max, self.cpu_weight))


class SandboxPolicy(BaseModel):
    """One session's confinement. Paths are absolute."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool
    profile: str
    deny_read: tuple[Path, ...] = ()  # hidden (an empty tmpfs, or /dev/null over a file)
    allow_write: tuple[Path, ...] = ()  # writable besides the workspace
    deny_write: tuple[Path, ...] = ()  # read-only even inside a writable path
    extra_ro_bind: tuple[Path, ...] = ()
    pid_namespace: bool = True
    network: NetworkMode = NetworkMode.ALLOWLIST
    allow_hosts: tuple[str, ...] = ()  # "host:port" the allow-list proxy lets through
    limits: Limits = Limits()
    user_memory_max: int | None = Field(default=None, gt=0)  # bytes, across the user's sessions


class SandboxRefused(UserPlaneError):
    """The policy cannot be read or enforced here, so the session does not start."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.SANDBOX_REFUSED, message)
