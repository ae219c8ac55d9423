"""Reading the policy files and resolving one session's effective policy, failing closed.

`oqtoctl` reads a user's overlays as root, so they are opened without following a
symlink at any level below the home or workspace, checked on the open descriptor
(regular file, the user's or root's, bounded size) and read with a bound: a user cannot
make root read another file, block on a FIFO or swallow memory.
"""

from __future__ import annotations

import errno
import os
import stat
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from oqto.sandbox.merge import (
    DEFAULT,
    Draft,
    RuleSource,
    add_always,
    apply_overlay,
    finish,
    profile_names,
    resolve_profile,
    with_default_hosts,
)
from oqto.sandbox.policy import SandboxPolicy, SandboxRefused
from oqto.sandbox.profiles import AdminFile, OverlayFile

ADMIN_MAX_BYTES = 1 << 20
OVERLAY_MAX_BYTES = 64 << 10
USER_OVERLAY = (".config", "oqto", "sandbox.toml")
WORKSPACE_OVERLAY = (".oqto", "sandbox.toml")
USER_OVERLAY_LABEL = "~/.config/oqto/sandbox.toml"
_DIR = os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO must not wait for a writer before fstat can refuse it.
_FILE = os.O_RDONLY | os.O_CLOEXEC | os.O_NOCTTY | os.O_NONBLOCK
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class ResolvedPolicy:
    policy: SandboxPolicy
    sources: tuple[RuleSource, ...]  # where each effective rule item came from
    files: tuple[str, ...]  # the policy files read, in merge order


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text


def _invalid(where: Path, exc: ValidationError, model: type[BaseModel]) -> SandboxRefused:
    problems = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        if error["type"] == "extra_forbidden":
            message = "unknown key"
            if len(loc) == 1:
                message += f" (allowed: {', '.join(model.model_fields)})"
        else:
            message = error["msg"].removeprefix("Value error, ")
        problems.append(f"{_location(loc) or 'file'}: {message}")
    return SandboxRefused(f"{where}: {'; '.join(problems)}")


def _parse(where: Path, data: bytes, model: type[M]) -> M:
    try:
        document: dict[str, Any] = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise SandboxRefused(f"{where}: not UTF-8 (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise SandboxRefused(f"{where}: {exc}") from None
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise _invalid(where, exc, model) from None


def _read_bounded(fd: int, where: Path, limit: int) -> bytes:
    data = b""
    while len(data) <= limit:
        chunk = os.read(fd, limit + 1 - len(data))
        if not chunk:
            return data
        data += chunk
    raise SandboxRefused(f"{where}: larger than {limit} bytes")


def _open(path: Path, flags: int) -> int | None:
    """None if `path` does not exist; any other failure refuses."""
    try:
        return os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SandboxRefused(f"{path}: cannot open it: {exc.strerror}") from None


def _read_checked(fd: int, where: Path, *, owners: tuple[int, ...], limit: int) -> bytes:
    """The content of an open policy file, refused unless it is a regular file of one of
    `owners`, writable by no one else, at most `limit` bytes."""
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        raise SandboxRefused(f"{where}: not a regular file")
    if st.st_uid not in owners:
        allowed = " or ".join("root" if uid == 0 else f"uid {uid}" for uid in dict.fromkeys(owners))
        raise SandboxRefused(f"{where}: owned by uid {st.st_uid}, not {allowed}")
    if st.st_mode & 0o022:
        mode = stat.S_IMODE(st.st_mode)
        raise SandboxRefused(f"{where}: writable by group or others (mode {mode:o})")
    if st.st_size > limit:
        raise SandboxRefused(f"{where}: larger than {limit} bytes")
    return _read_bounded(fd, where, limit)


def load_admin(path: Path) -> AdminFile | None:
    """The admin file (None if there is none: the built-in default applies). Every profile
    in it is resolved once, so a bad `extends` is refused wherever it is, not only in the
    profile in use."""
    fd = _open(path, _FILE)
    if fd is None:
        return None
    try:
        data = _read_checked(fd, path, owners=(0, os.geteuid()), limit=ADMIN_MAX_BYTES)
    finally:
        os.close(fd)
    admin = _parse(path, data, AdminFile)
    for name in (admin.profile, *admin.profiles):
        # Any home will do: only names and chains are being checked.
        resolve_profile(name, admin, admin_label=str(path), home=Path("/"))
    return admin


def _open_beneath(base: Path, parts: Sequence[str]) -> int | None:
    """The file `base/parts...` opened without following a symlink below `base`; None if
    it does not exist."""
    fd = _open(base, _DIR)
    if fd is None:
        return None
    where = base
    try:
        for index, part in enumerate(parts):
            where = where / part
            last = index == len(parts) - 1
            try:
                child = os.open(part, (_FILE if last else _DIR) | os.O_NOFOLLOW, dir_fd=fd)
            except FileNotFoundError:
                return None
            except OSError as exc:
                if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise SandboxRefused(f"{where}: cannot open it: {exc.strerror}") from None
                mode = os.stat(part, dir_fd=fd, follow_symlinks=False).st_mode
                problem = "is a symlink" if stat.S_ISLNK(mode) else "is not a directory"
                raise SandboxRefused(f"{where}: {problem}") from None
            os.close(fd)
            fd = child
        opened, fd = fd, -1
        return opened
    finally:
        if fd >= 0:
            os.close(fd)


def read_overlay(base: Path, parts: Sequence[str], owner: int) -> OverlayFile | None:
    """A user's or a workspace's overlay, or None if there is none."""
    where = base.joinpath(*parts)
    fd = _open_beneath(base, parts)
    if fd is None:
        return None
    try:
        data = _read_checked(fd, where, owners=(owner, 0), limit=OVERLAY_MAX_BYTES)
    finally:
        os.close(fd)
    return _parse(where, data, OverlayFile)


def resolve_policy(
    admin_file: Path,
    *,
    home: Path,
    workspace: Path,
    default_allow_hosts: Sequence[str],
    always_hidden: Sequence[Path] = (),
) -> ResolvedPolicy:
    """The effective policy of a session of the account whose home is `home` (its owner
    is that account) in `workspace`. Any problem is SandboxRefused naming file and key."""
    loaded = load_admin(admin_file)
    admin = loaded or AdminFile()
    admin_label = str(admin_file) if loaded else "built-in default"
    files = [admin_label]
    head = tuple(
        RuleSource(
            key, getattr(admin, key), admin_label if key in admin.model_fields_set else DEFAULT
        )
        for key in ("enabled", "profile")
    )
    if not admin.enabled:
        return ResolvedPolicy(
            SandboxPolicy(enabled=False, profile=admin.profile), head, tuple(files)
        )

    def resolve(name: str, named_in: Path | None = None) -> Draft:
        if named_in is not None and name not in profile_names(admin):
            known = ", ".join(profile_names(admin))
            raise SandboxRefused(f"{named_in}: profile: unknown profile {name!r} ({known})")
        return resolve_profile(name, admin, admin_label=str(admin_file), home=home)

    draft = with_default_hosts(resolve(admin.profile), default_allow_hosts)
    try:
        owner = os.stat(home).st_uid
    except OSError as exc:
        raise SandboxRefused(f"{home}: the home directory: {exc.strerror}") from None
    for base, parts, label in (
        (home, USER_OVERLAY, USER_OVERLAY_LABEL),
        (workspace, WORKSPACE_OVERLAY, str(workspace.joinpath(*WORKSPACE_OVERLAY))),
    ):
        overlay = read_overlay(base, parts, owner)
        if overlay is None:
            continue
        path = base.joinpath(*parts)
        files.append(str(path))
        draft = apply_overlay(
            draft, overlay, source=label, home=home, resolve=partial(resolve, named_in=path)
        )
    draft = add_always(
        draft,
        deny_read=always_hidden,
        deny_write=(admin_file, home / ".config" / "oqto", workspace / ".oqto"),
    )
    policy, sources = finish(draft)
    return ResolvedPolicy(policy, head + sources, tuple(files))
