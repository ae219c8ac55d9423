"""Linux accounts for platform users and the service account.

Accounts are only ever changed through ``useradd``/``userdel`` (never by
editing ``/etc/passwd``), so shadow's locking, nscd invalidation and
distribution hooks all apply. Look-ups go through :mod:`pwd`, i.e. NSS, the
same source ``getent passwd`` reads.

Safety rule: every account we create carries a marker at the start of its
GECOS field, and we refuse to adopt or delete an account without it (or
outside our uid range). An existing ``alice`` that belongs to a real person
must never silently become a platform user, let alone be deleted.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from oqto.protocol.names import LINUX_NAME_PATTERN, is_linux_name

__all__ = [
    "PLATFORM_USER_COMMENT",
    "SERVICE_ACCOUNT_COMMENT",
    "AccountError",
    "LinuxAccount",
    "create_account",
    "create_service_account",
    "delete_account",
    "lookup",
    "lookup_uid",
    "validate_name",
]

PLATFORM_USER_COMMENT = "Oqto platform user"
SERVICE_ACCOUNT_COMMENT = "Oqto service account"

# Below this uid are system accounts; we never delete those.
_FIRST_REGULAR_UID = 1000
_SYSTEM_UID_RANGE = (100, 999)  # Debian's SYS_UID_MIN/SYS_UID_MAX
_USERDEL_NO_SUCH_USER = 6
_USERADD_NAME_IN_USE = 9
_TOOL_FALLBACK_PATH = "/usr/sbin:/sbin:/usr/bin:/bin"


class AccountError(Exception):
    """An account operation was refused or failed; the message says why."""


@dataclass(frozen=True)
class LinuxAccount:
    name: str
    uid: int
    gid: int
    home: Path
    shell: str
    gecos: str = ""


def validate_name(name: str) -> None:
    if not is_linux_name(name):
        raise AccountError(f"invalid account name {name!r}: must match {LINUX_NAME_PATTERN}")


def _from_pwd(entry: pwd.struct_passwd) -> LinuxAccount:
    return LinuxAccount(
        name=entry.pw_name,
        uid=entry.pw_uid,
        gid=entry.pw_gid,
        home=Path(entry.pw_dir),
        shell=entry.pw_shell,
        gecos=entry.pw_gecos,
    )


def lookup(name: str) -> LinuxAccount | None:
    try:
        return _from_pwd(pwd.getpwnam(name))
    except KeyError:
        return None


def lookup_uid(uid: int) -> LinuxAccount | None:
    try:
        return _from_pwd(pwd.getpwuid(uid))
    except KeyError:
        return None


def _require_root(action: str) -> None:
    if os.geteuid() != 0:
        raise AccountError(f"{action} requires root")


def _tool(name: str) -> str:
    # Services often run with a PATH lacking /usr/sbin.
    found = shutil.which(name) or shutil.which(name, path=_TOOL_FALLBACK_PATH)
    if found is None:
        raise AccountError(f"{name} not found; install Debian's 'passwd' package")
    return found


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False)


def _failure(argv: list[str], result: subprocess.CompletedProcess[str]) -> AccountError:
    detail = result.stderr.strip() or result.stdout.strip() or "no output"
    return AccountError(f"{Path(argv[0]).name} failed with exit code {result.returncode}: {detail}")


def _check_ours(account: LinuxAccount, uid_min: int, uid_max: int, marker: str) -> LinuxAccount:
    """Return ``account`` if it is one we created, else raise naming the reason."""
    if not uid_min <= account.uid <= uid_max:
        raise AccountError(
            f"account {account.name!r} already exists with uid {account.uid}, outside "
            f"[{uid_min}, {uid_max}]; refusing to adopt an account Oqto did not create"
        )
    if not account.gecos.startswith(marker):
        raise AccountError(
            f"account {account.name!r} already exists but its GECOS {account.gecos!r} "
            f"lacks the marker {marker!r}; refusing to adopt an account Oqto did not create"
        )
    return account


def _check_comment(comment: str) -> None:
    # ':' and newlines would corrupt /etc/passwd; useradd rejects them too,
    # but with a less helpful message.
    if not comment or any(c in comment for c in ":\n"):
        raise AccountError(f"invalid account comment {comment!r}")


def _range_keys(prefix: str, low: int, high: int) -> list[str]:
    # The user-private group gets an id from the same window (useradd prefers gid == uid).
    return [
        *("--key", f"{prefix}UID_MIN={low}", "--key", f"{prefix}UID_MAX={high}"),
        *("--key", f"{prefix}GID_MIN={low}", "--key", f"{prefix}GID_MAX={high}"),
    ]


def _useradd(name: str, options: list[str]) -> None:
    argv = [_tool("useradd"), *options, "--user-group", "--", name]
    result = _run(argv)
    # Exit 9: somebody created the name concurrently; the caller re-checks it.
    if result.returncode not in (0, _USERADD_NAME_IN_USE):
        raise _failure(argv, result)


def _created(name: str) -> LinuxAccount:
    account = lookup(name)
    if account is None:
        raise AccountError(f"useradd reported success but account {name!r} is not visible")
    return account


def create_account(
    name: str,
    *,
    uid_min: int = 2000,
    uid_max: int = 60000,
    shell: str = "/bin/bash",
    home_base: Path = Path("/home"),
    comment: str = PLATFORM_USER_COMMENT,
    system: bool = False,
) -> LinuxAccount:
    """Create a platform user (uid in ``[uid_min, uid_max]``, private group, 0700 home).

    Idempotent for accounts we created: an existing account is returned only
    if its uid is in range and its GECOS starts with ``comment``; otherwise
    :class:`AccountError` explains why it is refused.
    """
    validate_name(name)
    _check_comment(comment)
    if not 0 < uid_min <= uid_max:
        raise AccountError(f"invalid uid range [{uid_min}, {uid_max}]")
    if not shell.startswith("/"):
        raise AccountError(f"shell must be an absolute path, got {shell!r}")
    existing = lookup(name)
    if existing is not None:
        return _check_ours(existing, uid_min, uid_max, comment)
    _require_root("creating an account")
    home = home_base / name
    options = [
        *("--create-home", "--home-dir", str(home), "--shell", shell, "--comment", comment),
        *_range_keys("SYS_" if system else "", uid_min, uid_max),
        *("--key", "HOME_MODE=0700"),
    ]
    if system:
        options.append("--system")
    _useradd(name, options)
    account = _check_ours(_created(name), uid_min, uid_max, comment)
    # HOME_MODE already asks for this; be explicit in case login.defs overrides.
    os.chmod(account.home, 0o700)
    return account


def _nologin_shell() -> str:
    for candidate in ("/usr/sbin/nologin", "/sbin/nologin"):
        if os.path.exists(candidate):
            return candidate
    return "/bin/false"


def create_service_account(
    name: str = "oqto", *, comment: str = SERVICE_ACCOUNT_COMMENT
) -> LinuxAccount:
    """Create (or return our existing) system account for the control plane.

    No login shell and no home directory (``/nonexistent``, Debian's
    convention for system users); state directories are provisioned separately.
    """
    validate_name(name)
    _check_comment(comment)
    low, high = _SYSTEM_UID_RANGE
    existing = lookup(name)
    if existing is not None:
        return _check_ours(existing, low, high, comment)
    _require_root("creating the service account")
    options = [
        *("--system", "--no-create-home", "--home-dir", "/nonexistent"),
        *("--shell", _nologin_shell(), "--comment", comment),
        *_range_keys("SYS_", low, high),
    ]
    _useradd(name, options)
    return _check_ours(_created(name), low, high, comment)


def delete_account(name: str, *, remove_home: bool, comment: str = PLATFORM_USER_COMMENT) -> None:
    """Delete a platform user created by :func:`create_account`; no-op if absent.

    Refuses system accounts (uid < 1000) and accounts whose GECOS does not
    start with ``comment``. Kills nothing: the caller stops the user's
    processes first, otherwise ``userdel`` refuses and we raise its message.
    """
    validate_name(name)
    account = lookup(name)
    if account is None:
        return
    if account.uid < _FIRST_REGULAR_UID:
        raise AccountError(
            f"refusing to delete {name!r}: uid {account.uid} is a system account (< 1000)"
        )
    if not account.gecos.startswith(comment):
        raise AccountError(
            f"refusing to delete {name!r}: its GECOS {account.gecos!r} lacks the marker "
            f"{comment!r}, so Oqto did not create it"
        )
    _require_root("deleting an account")
    argv = [_tool("userdel"), *(["--remove"] if remove_home else []), "--", name]
    result = _run(argv)
    if result.returncode not in (0, _USERDEL_NO_SUCH_USER):
        raise _failure(argv, result)
