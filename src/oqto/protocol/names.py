"""The two name rules: platform user names and Linux account names.

Platform user NAME gets the Linux account `[provisioning] linux_user_prefix` + NAME, unless
an admin names one explicitly. The patterns are anchored for JSON Schema and pydantic (whose
`$` is the end of the text); the checks use `fullmatch`, since Python's `$` also matches
before a trailing newline.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import StringConstraints

PLATFORM_NAME_MAX = 32
_PLATFORM = re.compile(rf"[a-z][a-z0-9_-]{{0,{PLATFORM_NAME_MAX - 1}}}")
PLATFORM_NAME_PATTERN = f"^{_PLATFORM.pattern}$"
PLATFORM_NAME_RULE = (
    f"1-{PLATFORM_NAME_MAX} lower-case letters, digits, '_' or '-', starting with a letter"
)

# What useradd accepts.
LINUX_NAME_MAX = 32
_LINUX = re.compile(rf"[a-z_][a-z0-9_-]{{0,{LINUX_NAME_MAX - 1}}}")
LINUX_NAME_PATTERN = f"^{_LINUX.pattern}$"
# Leaves every platform name at least 16 characters of the Linux name.
LINUX_PREFIX_MAX = 16

PlatformName = Annotated[str, StringConstraints(pattern=PLATFORM_NAME_PATTERN)]


class NamingError(ValueError):
    pass


def is_platform_name(name: str) -> bool:
    return _PLATFORM.fullmatch(name) is not None


def is_linux_name(name: str) -> bool:
    return _LINUX.fullmatch(name) is not None


def is_linux_prefix(prefix: str) -> bool:
    """Empty, or the start of a Linux name short enough to leave room for a user name."""
    return prefix == "" or (is_linux_name(prefix) and len(prefix) <= LINUX_PREFIX_MAX)


def check_platform_name(name: str) -> str:
    if not is_platform_name(name):
        raise NamingError(f"invalid user name {name!r}: use {PLATFORM_NAME_RULE}")
    return name


def check_linux_name(name: str) -> str:
    if not is_linux_name(name):
        raise NamingError(f"invalid account name {name!r}: must match {LINUX_NAME_PATTERN}")
    return name


def linux_name_for(username: str, prefix: str, explicit: str | None = None) -> str:
    """The Linux account name for platform user `username`."""
    check_platform_name(username)
    name = explicit if explicit is not None else prefix + username
    try:
        return check_linux_name(name)
    except NamingError as exc:
        hint = "" if explicit is not None else "; choose one with --linux-user"
        raise NamingError(f"{exc}{hint}") from None
