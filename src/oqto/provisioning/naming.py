"""Which Linux account a platform user gets: `<prefix><name>`, or one named explicitly."""

from __future__ import annotations

import re

from oqto.osutil.accounts import AccountError, validate_name

# Same rule as the API's USERNAME_PATTERN (kept here so the usermgr helper does not import
# the web layer); fullmatch, so a trailing newline is not accepted.
PLATFORM_NAME_RE = re.compile(r"[a-z][a-z0-9_-]{0,31}")


class NamingError(ValueError):
    pass


def check_platform_name(name: str) -> str:
    if not PLATFORM_NAME_RE.fullmatch(name):
        raise NamingError(
            f"invalid user name {name!r}: use 1-32 lower-case letters, digits, '_' or '-', "
            "starting with a letter"
        )
    return name


def linux_name_for(username: str, prefix: str, explicit: str | None = None) -> str:
    """The Linux account name for platform user `username`."""
    check_platform_name(username)
    name = explicit if explicit is not None else prefix + username
    try:
        validate_name(name)
    except AccountError as exc:
        hint = "" if explicit is not None else "; choose one with --linux-user"
        raise NamingError(f"{exc}{hint}") from None
    return name
