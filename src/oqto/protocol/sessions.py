"""What the control plane and the user plane say to each other about sessions."""

from __future__ import annotations

import enum
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuntimeState(enum.StrEnum):
    """The user plane's view of a session. The control plane adds `stopping`."""

    STARTING = "starting"
    RUNNING = "running"
    STOPPED = "stopped"
    FAILED = "failed"


class SessionSpec(_Model):
    id: str
    owner: str  # platform user name, fills `{user}` in the workspace root
    workspace: str  # name relative to the owner's workspace root


class ServiceName(enum.StrEnum):
    """A session's services, as the control plane asks for a connection to one."""

    AGENT = "agent"
    FILES = "files"
    TERMINAL = "terminal"


class AgentAuth(_Model):
    """opencode's per-session HTTP Basic credential. It is the only thing about where a
    session's services listen that the control plane is told: it never connects to an
    address a runner names, it asks the user plane for a connection (`connect_service`)."""

    username: str
    password: str


class SandboxReport(_Model):
    """How a running session is confined, as its user plane enforces it: shown to the
    user (an unsandboxed session is visible as such) and to operators."""

    enabled: bool
    # Bounded: a runner is its user's, and what it reports is shown to admins.
    profile: str | None = Field(default=None, max_length=64)
    network: Literal["host", "allowlist", "none"] | None = None
    pid_namespace: bool = False
    # Limits in force (bytes / tasks / weight); absent = not limited.
    memory_max: int | None = None
    tasks_max: int | None = None
    cpu_weight: int | None = None
    # Why configured limits are not enforced here (no cgroup controllers, no user
    # manager); None when they are, or when none are configured.
    limits_unenforced: str | None = Field(default=None, max_length=500)


class SessionRuntime(_Model):
    id: str
    workspace: str
    workspace_path: str
    state: RuntimeState
    error: str | None = None
    agent_auth: AgentAuth | None = None  # while running
    pids: dict[str, int] = {}
    ready_after: dict[str, float] = {}  # seconds from spawn to answering, per service
    sandbox: SandboxReport | None = None  # None: a user plane that predates sandboxing


class ServicePhase(enum.StrEnum):
    """How far one service of a starting session got."""

    WAITING = "waiting"  # not spawned yet
    STARTED = "started"  # its process runs; it does not answer yet
    READY = "ready"  # it answers
    FAILED = "failed"  # it exited or did not answer in time: the start fails


# Longer than any start timeout a config allows: a report past it is not a start time.
MAX_READY_AFTER = 3600.0


class ServiceProgress(_Model):
    """One service's step in a start, pushed while the session is `starting`. No free
    text: a runner is its user's, and this is kept and shown by the control plane."""

    service: ServiceName
    phase: ServicePhase
    # Seconds from the start to answering; set with `ready` only.
    ready_after: float | None = Field(default=None, ge=0, le=MAX_READY_AFTER, allow_inf_nan=False)


class SessionEvent(_Model):
    """Pushed by the user plane when a session changes state on its own (a service died),
    or, with `state` starting and `progress`, when one service of a start gets further."""

    session_id: str
    state: RuntimeState
    error: str | None = None
    progress: ServiceProgress | None = None


_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._ -]{0,63}$")
MAX_WORKSPACE_DEPTH = 4


class WorkspaceNameError(ValueError):
    pass


def check_workspace_name(name: str) -> str:
    """Normalise a workspace name (`proj` or `team/proj`); refuse anything that could
    leave the workspace root. The user plane re-checks after resolving symlinks."""
    parts = [p for p in name.strip().split("/") if p not in ("",)]
    if not parts:
        raise WorkspaceNameError("workspace name is empty")
    if name.startswith("/"):
        raise WorkspaceNameError("workspace name must be relative, not an absolute path")
    if len(parts) > MAX_WORKSPACE_DEPTH:
        raise WorkspaceNameError(f"workspace name has more than {MAX_WORKSPACE_DEPTH} levels")
    for part in parts:
        if part in (".", "..") or not _SEGMENT.match(part) or part.endswith((" ", ".")):
            raise WorkspaceNameError(
                f"invalid workspace name segment {part!r}: use letters, digits, '.', '_', '-' "
                "and spaces, not starting with '.' or '-'"
            )
    return "/".join(parts)
