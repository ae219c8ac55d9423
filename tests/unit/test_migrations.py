"""The Alembic migrations build exactly the schema the models describe, and undo cleanly."""

import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from oqto.config.errors import ConfigError
from oqto.db.engine import HEAD_REVISION, alembic_config, make_engine, migrate, sqlite_url
from oqto.db.models import Base


def test_migrations_match_models_and_downgrade(tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path / "m.db"))
    migrate(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    migrate(engine)  # idempotent
    command.downgrade(alembic_config(engine), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def test_head_revision_is_alembics_head(tmp_path: Path) -> None:
    """`migrate` skips Alembic for a database at HEAD_REVISION: that must be the real head,
    or a new migration would never run on an existing database."""
    from alembic.script import ScriptDirectory

    engine = make_engine(sqlite_url(tmp_path / "h.db"))
    script = ScriptDirectory.from_config(alembic_config(engine))
    assert script.get_current_head() == HEAD_REVISION
    migrate(engine)
    command.downgrade(alembic_config(engine), "-1")
    migrate(engine)  # one behind: upgraded, not skipped
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
            HEAD_REVISION
        )
    engine.dispose()


def test_a_server_migrates_in_a_child_process(tmp_path: Path) -> None:
    """`oqto serve` runs the migrations apart: the server process never imports Alembic."""
    db = tmp_path / "c.db"
    probe = (
        "import sys\n"
        "from oqto.db.engine import make_engine, migrate, sqlite_url\n"
        f"migrate(make_engine(sqlite_url({str(db)!r})), in_child=True)\n"
        "print('alembic' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
    engine = make_engine(sqlite_url(db))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
            HEAD_REVISION
        )
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    engine.dispose()


def test_a_failed_upgrade_in_the_child_names_the_database(tmp_path: Path) -> None:
    """A database from a newer Oqto (a revision this one does not know) is refused with
    the database and the reason named, and left as it was."""
    db = tmp_path / "newer.db"
    engine = make_engine(sqlite_url(db))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
        conn.execute(text("INSERT INTO alembic_version VALUES ('9999')"))
    with pytest.raises(ConfigError) as failed:
        migrate(engine, in_child=True)
    message = str(failed.value)
    assert str(db) in message and "9999" in message and HEAD_REVISION in message
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    engine.dispose()
