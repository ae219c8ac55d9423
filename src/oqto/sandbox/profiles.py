"""The sandbox policy files as written: the admin file, a user's or a workspace's overlay,
and the built-in profiles.

Nothing here is resolved yet: paths may still start with `~`, a profile may `extends`
another, and a key left out means "inherit" (profile) or "no change" (overlay).
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool

from oqto.sandbox.egress import parse_target
from oqto.sandbox.policy import NetworkMode

_SIZE = re.compile(r"(\d+)\s*([KMGT]?)B?", re.IGNORECASE)
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_size(value: object) -> object:
    """ "512M", "2G" (binary units, as systemd reads them) or a number of bytes."""
    if isinstance(value, str):
        found = _SIZE.fullmatch(value.strip())
        if found is None:
            raise ValueError(f'not a size: {value!r} (use bytes or e.g. "512M", "2G")')
        return int(found.group(1)) * _UNITS[found.group(2).upper()]
    if isinstance(value, bool):  # bool is an int to Python, never a size to a person
        raise ValueError("not a size: a boolean")
    return value


def format_size(size: int) -> str:
    """The largest unit that divides `size` exactly: 4294967296 is "4G"."""
    for unit in ("T", "G", "M", "K"):
        if size % _UNITS[unit] == 0:
            return f"{size // _UNITS[unit]}{unit}"
    return str(size)


def check_path(value: str) -> str:
    """`~` (the session owner's home), `~/...` or absolute; returned normalised."""
    if value != "~" and not value.startswith(("~/", "/")):
        raise ValueError(f"{value!r} must be absolute or start with ~/")
    if "\0" in value:
        raise ValueError(f"{value!r} contains a NUL byte")
    parts = PurePosixPath(value).parts
    # `..` would mean one thing to this check and another after symlinks are followed.
    if ".." in parts:
        raise ValueError(f"{value!r} contains '..'")
    return str(PurePosixPath(*parts))


def check_host_port(value: str) -> str:
    """`host:port` (IPv6 in brackets) in the one spelling the allow-list proxy compares."""
    return str(parse_target(value))


PolicyPath = Annotated[str, AfterValidator(check_path)]
HostPort = Annotated[str, AfterValidator(check_host_port)]
Size = Annotated[int, BeforeValidator(parse_size), Field(gt=0, strict=True)]
TaskCount = Annotated[int, Field(gt=0, strict=True)]
CpuWeight = Annotated[int, Field(ge=1, le=10_000, strict=True)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LimitsFile(_Strict):
    """A `limits` table. A key left out inherits (profile) or changes nothing (overlay)."""

    memory_max: Size | None = None
    tasks_max: TaskCount | None = None
    cpu_weight: CpuWeight | None = None
    required: StrictBool | None = None
    user_memory_max: Size | None = None


class ProfileFile(_Strict):
    """`[profiles.NAME]`. Lists add to those of the profile it `extends`; the other keys,
    each limit included, replace the inherited value."""

    extends: str | None = None
    deny_read: tuple[PolicyPath, ...] = ()
    allow_write: tuple[PolicyPath, ...] = ()
    deny_write: tuple[PolicyPath, ...] = ()
    extra_ro_bind: tuple[PolicyPath, ...] = ()
    pid_namespace: StrictBool | None = None
    network: NetworkMode | None = None
    # None: the default (the hosts of the providers the opencode config names).
    allow_hosts: tuple[HostPort, ...] | None = None
    limits: LimitsFile = LimitsFile()


class AdminFile(_Strict):
    """`[sandbox] config` (default /etc/oqto/sandbox.toml)."""

    enabled: StrictBool = True
    profile: str = "development"
    profiles: dict[str, ProfileFile] = {}


class OverlayFile(_Strict):
    """`~/.config/oqto/sandbox.toml` or `<workspace>/.oqto/sandbox.toml`: only keys that
    can tighten. A looser value than the admin's changes nothing."""

    profile: str | None = None
    deny_read: tuple[PolicyPath, ...] = ()
    deny_write: tuple[PolicyPath, ...] = ()
    # None: no restriction; a list: writable only at or beneath one of its paths.
    allow_write: tuple[PolicyPath, ...] | None = None
    network: NetworkMode | None = None
    allow_hosts: tuple[HostPort, ...] | None = None
    pid_namespace: StrictBool | None = None
    limits: LimitsFile = LimitsFile()


# Secrets that are single files; the rest are directories. A missing secret is created
# (empty, private) before a session starts so that it can be masked: the owner may create
# it later, outside the sandbox, and the session's read-only view of the home is live.
SECRET_FILES = ("~/.netrc", "~/.git-credentials")
SECRETS = (
    "~/.ssh",
    "~/.gnupg",
    "~/.aws",
    "~/.config/gcloud",
    "~/.kube",
    "~/.docker",
    *SECRET_FILES,
    "~/.config/gh",
    "~/.password-store",
    "~/.local/share/keyrings",
)
# opencode writes its global config dir at every start (a .gitignore, its plugins): it
# cannot run without it. The price: a session can change what opencode loads when a
# person runs it outside Oqto; strict hides ~/.config, so there it is a throwaway tmpfs.
OPENCODE_DIRS = (
    "~/.local/share/opencode",
    "~/.local/state/opencode",
    "~/.cache/opencode",
    "~/.config/opencode",
)
# Download caches only: never a directory whose programs a person later runs outside the
# sandbox (~/.local/bin, ~/.cargo/bin, ~/go/bin, ~/.rustup, shell rc files), which would
# let a session leave something behind that runs unconfined.
TOOL_CACHES = (
    "~/.cache",
    "~/.npm",
    "~/.cargo/registry",
    "~/.cargo/git",
    "~/go/pkg/mod",
    "~/.m2/repository",
    "~/.gradle/caches",
    "~/.bun/install/cache",
)

BUILTIN_PROFILES: dict[str, ProfileFile] = {
    "minimal": ProfileFile(
        deny_read=SECRETS,
        allow_write=OPENCODE_DIRS + TOOL_CACHES,
        pid_namespace=False,
        network=NetworkMode.HOST,
    ),
    "development": ProfileFile(
        deny_read=SECRETS,
        allow_write=OPENCODE_DIRS + TOOL_CACHES,
        pid_namespace=True,
        network=NetworkMode.ALLOWLIST,
        limits=LimitsFile(memory_max=4 << 30, tasks_max=4096, required=False),
    ),
    "strict": ProfileFile(
        deny_read=(*SECRETS, "~/.config"),
        allow_write=OPENCODE_DIRS,
        pid_namespace=True,
        network=NetworkMode.ALLOWLIST,
        limits=LimitsFile(memory_max=2 << 30, tasks_max=1024, cpu_weight=100, required=True),
    ),
}
DEFAULT_PROFILE = AdminFile().profile
