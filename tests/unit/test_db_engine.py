"""The database file's privacy and the errors a bad `[database] url` gives."""

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from oqto.config import ConfigError
from oqto.db.engine import make_engine, migrate, sqlite_url


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def usual_umask() -> Iterator[None]:
    previous = os.umask(0o022)  # what a login shell has: SQLite alone would make 0644
    yield
    os.umask(previous)


@pytest.mark.usefixtures("usual_umask")
def test_new_database_and_its_wal_files_are_0600(tmp_path: Path) -> None:
    db = tmp_path / "oqto.db"
    engine = make_engine(sqlite_url(db))
    migrate(engine)
    with engine.connect() as conn:
        conn.execute(text("SELECT count(*) FROM users"))
        # While a connection is open, WAL mode keeps the -wal and -shm files around.
        wal, shm = tmp_path / "oqto.db-wal", tmp_path / "oqto.db-shm"
        assert wal.exists() and shm.exists()
        assert (mode(db), mode(wal), mode(shm)) == (0o600, 0o600, 0o600)
    engine.dispose()


@pytest.mark.usefixtures("usual_umask")
def test_existing_database_keeps_its_mode(tmp_path: Path) -> None:
    # oqtoctl creates the file itself (owned like its directory): leave it as made.
    db = tmp_path / "oqto.db"
    db.touch(mode=0o640)
    db.chmod(0o640)
    engine = make_engine(sqlite_url(db))
    migrate(engine)
    engine.dispose()
    assert mode(db) == 0o640


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("sqlite:////nonexistent-dir/x.db", "the directory /nonexistent-dir does not exist"),
        ("not a url", "not a database URL"),
        ("bogus://host/x", "unsupported database or driver"),
    ],
)
def test_unusable_urls_name_the_key(url: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        migrate(make_engine(url))
    assert "[database] url" in str(info.value)
    assert problem in str(info.value)


def test_directory_or_text_file_is_not_a_database(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory, not a database file"):
        make_engine(sqlite_url(tmp_path))
    notes = tmp_path / "notes.txt"
    notes.write_text("just some text, long enough to fill a database header\n" * 4)
    engine = make_engine(sqlite_url(notes))
    with pytest.raises(ConfigError, match=r"\[database\] url.*file is not a database"):
        migrate(engine)
    engine.dispose()
    assert notes.read_text().startswith("just some text")


def test_password_is_not_shown(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        make_engine("bogus://user:hunter2@host/x")
    assert "hunter2" not in str(info.value)
