"""Serialising check-then-insert transactions (caps) without a database-specific lock API."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session as DBSession

from oqto.db.models import User


def lock_user_row(db: DBSession, user_id: str) -> None:
    """Take a write lock that covers this user's rows for the rest of the transaction.

    A no-op UPDATE of the user's row, as the transaction's *first* statement: SQLite then
    holds its database write lock before anything is read (so a concurrent transaction
    waits on busy_timeout instead of counting the same rows), and PostgreSQL holds the
    row lock, so a later count sees every committed insert of the transactions before.
    """
    db.execute(
        update(User)
        .where(User.id == user_id)
        .values(disabled=User.disabled)
        .execution_options(synchronize_session=False)
    )
