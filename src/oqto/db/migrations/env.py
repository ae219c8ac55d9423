"""Alembic environment: runs against the engine the control plane hands in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from oqto.db.models import Base

engine = context.config.attributes.get("engine")
if not isinstance(engine, Engine):
    raise RuntimeError("migrations must be run through oqto.db.engine.migrate")

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
