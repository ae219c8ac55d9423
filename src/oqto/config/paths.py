"""Where things live by default (XDG base directories and the system-service layout)."""

from __future__ import annotations

import os
from pathlib import Path

SYSTEM_CONFIG = Path("/etc/oqto/config.toml")
SYSTEM_DATA_DIR = Path("/var/lib/oqto")


def running_as_system_service() -> bool:
    # systemd sets INVOCATION_ID for every unit it starts; MANAGERPID is only set by a
    # user manager, so its absence tells a system unit from a `systemctl --user` one.
    return "INVOCATION_ID" in os.environ and "MANAGERPID" not in os.environ


def _xdg(var: str, fallback: str) -> Path:
    value = os.environ.get(var)
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / fallback


def user_config_file() -> Path:
    return _xdg("XDG_CONFIG_HOME", ".config") / "oqto" / "config.toml"


def default_data_dir() -> Path:
    if running_as_system_service():
        return SYSTEM_DATA_DIR
    return _xdg("XDG_DATA_HOME", ".local/share") / "oqto"


def default_state_dir() -> Path:
    return _xdg("XDG_STATE_HOME", ".local/state") / "oqto"


def default_runtime_dir() -> Path:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime):
        return Path(runtime) / "oqto"
    return Path(f"/tmp/oqto-{os.getuid()}")  # noqa: S108 - private 0700 dir, ownership checked
