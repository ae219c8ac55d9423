"""What every oqtoctl command starts from: which installation it administers (its config
and data directory, found as `oqto serve` finds them) and its database.

An installation is the system's (multi-user: /etc/oqto/config.toml, /var/lib/oqto, run as
root) or the invoking account's own (single-user: `oqto serve --single-user` run by that
account, with ~/.config/oqto/config.toml or defaults and ~/.local/share/oqto). oqtoctl
takes the system's when its config exists or a config is named (--config,
$OQTO_CONFIG) that does not say `[local] single_user`, and the account's own otherwise.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from sqlalchemy.orm import sessionmaker

from oqto.config import ConfigError, LoadedConfig, OqtoConfig, load_config
from oqto.config.paths import SYSTEM_CONFIG, SYSTEM_DATA_DIR, personal_data_dir
from oqto.ctl.output import fail
from oqto.provisioning.database import DatabaseError, open_sessionmaker
from oqto.provisioning.host import HostSettings
from oqto.provisioning.linux import host_settings


@dataclass
class Ctl:
    config: OqtoConfig  # with the data directory and single-user mode made explicit
    config_path: Path | None
    single_user: bool = False

    @property
    def mode(self) -> str:
        if self.single_user:
            return f"single-user installation of {pwd.getpwuid(os.getuid()).pw_name}"
        return "multi-user installation (the system's)"

    def require_root(self, what: str) -> None:
        """The system's installation is root's to change; an account's own is its own."""
        if not self.single_user:
            require_root(what)

    def host(self) -> HostSettings:
        return host_settings(self.config, self.config_path)

    @contextmanager
    def db(self, *, create: bool = True) -> Iterator[sessionmaker[Any]]:
        try:
            engine, maker = open_sessionmaker(self.config, create=create)
        except DatabaseError as exc:
            raise fail(str(exc)) from None
        try:
            yield maker
        finally:
            engine.dispose()


def config_file(explicit: Path | None) -> Path | None:
    """--config, then $OQTO_CONFIG (the loader reads it), then the system config."""
    if explicit is not None or os.environ.get("OQTO_CONFIG"):
        return explicit
    return SYSTEM_CONFIG if SYSTEM_CONFIG.exists() else None


def find_install(explicit: Path | None) -> Ctl:
    """The installation oqtoctl administers (module docstring); ConfigError if its config
    is unusable."""
    loaded = load_config(config_file(explicit))
    named = explicit is not None or bool(os.environ.get("OQTO_CONFIG"))
    single = loaded.config.local.single_user or (not named and loaded.path != SYSTEM_CONFIG)
    return Ctl(config=_explicit(loaded, single), config_path=loaded.path, single_user=single)


def _explicit(loaded: LoadedConfig, single_user: bool) -> OqtoConfig:
    config = loaded.config
    server, local = config.server, config.local
    if server.data_dir is None:
        default = personal_data_dir() if single_user else SYSTEM_DATA_DIR
        server = server.model_copy(update={"data_dir": default})
    if single_user:
        local = local.model_copy(update={"single_user": True})
    return config.model_copy(update={"server": server, "local": local})


def load(explicit: Path | None) -> Ctl:
    try:
        return find_install(explicit)
    except ConfigError as exc:
        raise fail(str(exc), 2) from None


def ctl(context: typer.Context) -> Ctl:
    root = context.find_root()
    if not isinstance(root.obj, Ctl):
        root.obj = load(root.params.get("config"))
    return root.obj


def require_root(what: str) -> None:
    if os.geteuid() != 0:
        raise fail(f"{what} needs root (run it with sudo)")
