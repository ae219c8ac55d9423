"""Where things live by default (XDG base directories and the system-service layout)."""

from __future__ import annotations

import os
from pathlib import Path

from oqto.config.errors import ConfigError
from oqto.osutil.runtime_dir import RuntimeDirError, ensure_private_dir

SYSTEM_CONFIG = Path("/etc/oqto/config.toml")
SYSTEM_DATA_DIR = Path("/var/lib/oqto")


def runner_socket_path(pattern: str, uid: int, user: str) -> Path:
    """Where the runner of Linux account `user` (uid `uid`) listens: `[local]
    runner_socket_pattern` with its only two fields, `{uid}` and `{user}`, filled in."""
    return Path(pattern.format(uid=uid, user=user))


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
    return personal_data_dir()


def personal_data_dir() -> Path:
    """Where `oqto serve` run by an account itself (single-user) keeps its data."""
    return _xdg("XDG_DATA_HOME", ".local/share") / "oqto"


def default_state_dir() -> Path:
    return _xdg("XDG_STATE_HOME", ".local/state") / "oqto"


def default_runtime_dir() -> Path:
    """`$XDG_RUNTIME_DIR/oqto`, else `/tmp/oqto-<uid>`: created 0700, or checked if present.

    The fallback sits in a directory every account can write to, so someone else may
    have created it first; `ensure_private_dir` refuses anything that is not ours.
    """
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime):
        return _private(Path(runtime) / "oqto", "XDG_RUNTIME_DIR")
    fallback = Path(f"/tmp/oqto-{os.getuid()}")  # noqa: S108 - owner and mode checked
    return _private(fallback, "the fallback runtime directory (XDG_RUNTIME_DIR is unset)")


def runtime_dir(socket_dir: Path | None) -> Path:
    """The control plane's socket directory: `[local] socket_dir`, else the default."""
    if socket_dir is None:
        return default_runtime_dir()
    return _private(socket_dir.expanduser(), "[local] socket_dir")


def _private(path: Path, origin: str) -> Path:
    try:
        return ensure_private_dir(path)
    except RuntimeDirError as exc:
        raise ConfigError(f"{origin}: {exc}") from None
