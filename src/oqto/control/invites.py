"""Invite codes: created by admins (API or oqtoctl), redeemed once per registration."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session as DBSession

from oqto.db.models import Invite, Role, utcnow

CODE_PREFIX = "inv_"


class InviteError(Exception):
    pass


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def create_invite(
    db: DBSession,
    *,
    created_by: str | None,
    max_uses: int = 1,
    expires_in: dt.timedelta | None = dt.timedelta(days=7),
    role: Role = Role.USER,
    note: str | None = None,
) -> tuple[str, Invite]:
    """Returns the code (shown once) and its row."""
    if max_uses < 1:
        raise InviteError("uses must be at least 1")
    code = CODE_PREFIX + secrets.token_urlsafe(18)
    row = Invite(
        code_hash=_digest(code),
        prefix=code[: len(CODE_PREFIX) + 6],
        created_by=created_by,
        role=role,
        max_uses=max_uses,
        uses=0,
        note=note,
        expires_at=utcnow() + expires_in if expires_in else None,
    )
    db.add(row)
    db.flush()
    return code, row


def list_invites(db: DBSession) -> list[Invite]:
    return list(db.scalars(select(Invite).order_by(Invite.created_at.desc())))


def revoke_invite(db: DBSession, invite_id: str) -> bool:
    result = db.execute(
        update(Invite)
        .where(Invite.id == invite_id, Invite.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def redeem_invite(db: DBSession, code: str) -> Invite:
    """Use up one use of a valid code, atomically (the UPDATE re-checks the count, so two
    registrations racing for the last use cannot both win)."""
    row = db.scalar(select(Invite).where(Invite.code_hash == _digest(code)))
    now = utcnow()
    if (
        row is None
        or row.revoked_at is not None
        or (row.expires_at is not None and row.expires_at <= now)
        or row.uses >= row.max_uses
    ):
        raise InviteError("invalid, expired or used-up invite code")
    result = db.execute(
        update(Invite)
        .where(Invite.id == row.id, Invite.uses < Invite.max_uses)
        .values(uses=Invite.uses + 1)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise InviteError("invalid, expired or used-up invite code")
    db.refresh(row)
    return row


def parse_duration(text: str) -> dt.timedelta:
    """`30m`, `24h`, `7d`, `2w` (as in `oqtoctl invite create --expires 7d`)."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    number, unit = text[:-1], text[-1:]
    if unit not in units or not number.isdigit() or int(number) <= 0:
        raise InviteError(f"bad duration {text!r}: use e.g. 30m, 24h, 7d or 2w")
    return dt.timedelta(seconds=int(number) * units[unit])
