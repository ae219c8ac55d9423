"""The control plane's database (SQLAlchemy 2 models, Alembic migrations)."""
