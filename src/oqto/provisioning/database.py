"""The control-plane database, opened by root-run admin tools (`oqtoctl`).

The database belongs to the service account. SQLite itself gives new -wal/-shm/-journal
files the owner of the database file when it runs as root, so root may use an existing
database freely; but a database root *creates* would be root's and unusable by the
service. So a missing SQLite file is created first, owned like its directory.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from oqto.config.model import OqtoConfig
from oqto.config.paths import SYSTEM_DATA_DIR
from oqto.db.engine import make_engine, make_sessionmaker, migrate, sqlite_url


class DatabaseError(Exception):
    pass


def data_dir(config: OqtoConfig) -> Path:
    """The control plane's data directory as the system service sees it."""
    return (config.server.data_dir or SYSTEM_DATA_DIR).expanduser()


def database_url(config: OqtoConfig) -> str:
    return config.database.url or sqlite_url(data_dir(config) / "oqto.db")


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _prepare_sqlite_file(path: Path) -> None:
    if path.exists():
        return
    parent = path.parent
    if not parent.is_dir():
        raise DatabaseError(
            f"the data directory {parent} does not exist; create it as in the deployment "
            f"guide (mkdir -p {parent} && chown oqto:oqto {parent})"
        )
    st = parent.stat()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        if os.geteuid() == 0:
            os.fchown(fd, st.st_uid, st.st_gid)
    finally:
        os.close(fd)


def open_engine(config: OqtoConfig, *, create: bool = True, upgrade: bool = True) -> Engine:
    url = database_url(config)
    path = sqlite_path(url)
    if path is not None:
        if not path.exists() and not create:
            raise DatabaseError(
                f"no database at {path} (has Oqto's server ever started with this data directory?)"
            )
        _prepare_sqlite_file(path)
    engine = make_engine(url)
    if upgrade:
        try:
            migrate(engine)
        except Exception as exc:
            engine.dispose()
            raise DatabaseError(f"cannot open or migrate the database {url}: {exc}") from exc
    return engine


def open_sessionmaker(config: OqtoConfig, **kwargs: Any) -> tuple[Engine, sessionmaker[Any]]:
    engine = open_engine(config, **kwargs)
    return engine, make_sessionmaker(engine)
