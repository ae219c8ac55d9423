"""Opaque bearer tokens. The client holds 32 random bytes; the database holds their SHA-256,
so every token can be listed, expired and revoked, and a database leak reveals none."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session as DBSession

from oqto.db.models import AuthToken, TokenKind, User, utcnow

TOKEN_PREFIX = "oqto_"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    db: DBSession, user: User, kind: TokenKind, ttl: dt.timedelta | None, name: str | None = None
) -> tuple[str, AuthToken]:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = AuthToken(
        user_id=user.id,
        token_hash=token_digest(token),
        kind=kind,
        name=name,
        expires_at=utcnow() + ttl if ttl else None,
    )
    db.add(row)
    db.flush()
    return token, row


def well_formed(token: str) -> bool:
    return token.startswith(TOKEN_PREFIX) and len(token) <= 256


def resolve_token(db: DBSession, token: str) -> tuple[User, AuthToken] | None:
    """The live token's user, re-read each time so disabling a user or changing a role acts
    on the next request."""
    if not well_formed(token):
        return None
    return resolve_digest(db, token_digest(token))


def resolve_digest(db: DBSession, digest: str) -> tuple[User, AuthToken] | None:
    row = db.scalar(select(AuthToken).where(AuthToken.token_hash == digest))
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= utcnow():
        return None
    if row.user.disabled:
        return None
    return row.user, row


def revoke_token(db: DBSession, token_id: str) -> None:
    db.execute(
        update(AuthToken)
        .where(AuthToken.id == token_id, AuthToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def revoke_all_for_user(db: DBSession, user_id: str) -> None:
    db.execute(
        update(AuthToken)
        .where(AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
