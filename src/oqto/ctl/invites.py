"""`oqtoctl invite ...`: registration codes for `POST /api/auth/register`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import typer
from sqlalchemy import select

from oqto.control import singleuser
from oqto.control.invites import (
    CODE_PREFIX,
    InviteError,
    create_invite,
    list_invites,
    parse_duration,
)
from oqto.control.invites import revoke_invite as revoke_row
from oqto.ctl.context import ctl
from oqto.ctl.output import emit_json, fail, out, table
from oqto.db.models import Invite, Role

app = typer.Typer(
    rich_markup_mode=None, help="Invite codes for self-registration.", no_args_is_help=True
)
# `Invite.prefix` holds this many leading characters of the code.
PREFIX_LENGTH = len(CODE_PREFIX) + 6
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def invite_json(row: Invite) -> dict[str, Any]:
    return {
        "id": row.id,
        "prefix": row.prefix,
        "role": row.role.value,
        "uses": row.uses,
        "max_uses": row.max_uses,
        "note": row.note,
        "created_at": row.created_at.isoformat(),
        "expires_at": row.expires_at.isoformat() if row.expires_at else None,
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
    }


def state(row: Invite, now: dt.datetime) -> str:
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at <= now:
        return "expired"
    if row.uses >= row.max_uses:
        return "used up"
    return "valid"


@app.command()
def create(
    context: typer.Context,
    uses: Annotated[int, typer.Option("--uses", min=1, help="How many registrations.")] = 1,
    expires: Annotated[
        str, typer.Option("--expires", help="Lifetime: 30m, 24h, 7d, 2w, or 'never'.")
    ] = "7d",
    role: Annotated[Role, typer.Option("--role")] = Role.USER,
    note: Annotated[str | None, typer.Option("--note", max=256)] = None,
    json: JsonOpt = False,
) -> None:
    """Create an invite code (shown once; only its hash is stored)."""
    c = ctl(context)
    c.require_root("creating invites")
    if c.config.local.single_user:
        raise fail(singleuser.explanation("oqtoctl invite create"))
    try:
        lifetime = None if expires == "never" else parse_duration(expires)
    except InviteError as exc:
        raise fail(str(exc)) from None
    with ctl(context).db() as db, db.begin() as session:
        code, row = create_invite(
            session, created_by=None, max_uses=uses, expires_in=lifetime, role=role, note=note
        )
        data = invite_json(row) | {"code": code}
    if json:
        emit_json(data)
        return
    out.print(f"Invite code (shown once): [bold]{code}[/]")
    out.print(
        f"id {data['id']}, {uses} use(s), role {role.value}, "
        f"expires {data['expires_at'] or 'never'}"
    )


@app.command("list")
def list_cmd(context: typer.Context, json: JsonOpt = False) -> None:
    """Every invite code (by prefix; the codes themselves are not stored)."""
    with ctl(context).db(create=False) as db, db() as session:
        rows = list_invites(session)
    if json:
        emit_json([invite_json(r) for r in rows])
        return
    now = dt.datetime.now(dt.UTC)
    table(
        ["id", "code", "role", "uses", "state", "expires", "note"],
        [
            (
                r.id,
                r.prefix + "…",
                r.role.value,
                f"{r.uses}/{r.max_uses}",
                state(r, now),
                r.expires_at.isoformat(timespec="minutes") if r.expires_at else "never",
                r.note,
            )
            for r in rows
        ],
    )


@app.command()
def revoke(
    context: typer.Context,
    invite: Annotated[str, typer.Argument(help="Invite id, or the start of its code.")],
) -> None:
    """Revoke an invite code: it can no longer be used."""
    c = ctl(context)
    c.require_root("revoking invites")
    with c.db() as db, db.begin() as session:
        condition = Invite.id == invite
        if invite.startswith(CODE_PREFIX) and len(invite) >= PREFIX_LENGTH:
            condition = condition | (Invite.prefix == invite[:PREFIX_LENGTH])
        matches = list(session.scalars(select(Invite).where(condition)))
        if not matches:
            raise fail(f"no invite {invite!r}")
        if len(matches) > 1:
            raise fail(f"{invite!r} matches {len(matches)} invites; use the id")
        if not revoke_row(session, matches[0].id):
            raise fail(f"invite {matches[0].id} was already revoked")
    out.print(f"Revoked invite {matches[0].id}")
