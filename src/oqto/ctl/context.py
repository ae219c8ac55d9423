"""What every oqtoctl command starts from: the system config and the database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from sqlalchemy.orm import sessionmaker

from oqto.config import ConfigError, OqtoConfig, load_config
from oqto.config.paths import SYSTEM_CONFIG
from oqto.ctl.output import fail
from oqto.provisioning.database import DatabaseError, open_sessionmaker
from oqto.provisioning.host import HostSettings
from oqto.provisioning.linux import host_settings


@dataclass
class Ctl:
    config: OqtoConfig
    config_path: Path | None

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


def load(explicit: Path | None) -> Ctl:
    try:
        loaded = load_config(config_file(explicit))
    except ConfigError as exc:
        raise fail(str(exc), 2) from None
    return Ctl(config=loaded.config, config_path=loaded.path)


def ctl(context: typer.Context) -> Ctl:
    root = context.find_root()
    if not isinstance(root.obj, Ctl):
        root.obj = load(root.params.get("config"))
    return root.obj


def require_root(what: str) -> None:
    if os.geteuid() != 0:
        raise fail(f"{what} needs root (run it with sudo)")
