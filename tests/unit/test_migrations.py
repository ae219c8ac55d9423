"""The Alembic migrations build exactly the schema the models describe, and undo cleanly."""

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

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
