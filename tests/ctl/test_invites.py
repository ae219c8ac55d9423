"""`oqtoctl invite create|list|revoke`."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy.orm import Session
from tests.ctl.support import Install

from oqto.control.invites import InviteError, redeem_invite


def test_create_list_revoke(install: Install) -> None:
    created = install.ctl("invite", "create", "--uses", "2", "--expires", "7d", "--json")
    assert created.exit_code == 0, created.output
    invite = json.loads(created.stdout)
    code = invite["code"]
    assert code.startswith("inv_") and invite["max_uses"] == 2 and invite["uses"] == 0
    expires = dt.datetime.fromisoformat(invite["expires_at"])
    assert dt.timedelta(days=6) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(days=7)

    never = json.loads(install.ctl("invite", "create", "--expires", "never", "--json").stdout)
    assert never["expires_at"] is None
    human = install.ctl("invite", "create", "--role", "admin", "--note", "for ops")
    assert "shown once" in human.stdout

    listed = json.loads(install.ctl("invite", "list", "--json").stdout)
    assert {i["id"] for i in listed} >= {invite["id"], never["id"]}
    assert all("code" not in i for i in listed)  # codes are never stored
    assert "valid" in install.ctl("invite", "list").stdout

    # The code works until it is revoked (by the start of the code, as admins see it).
    engine, maker = install.db()
    try:
        with maker.begin() as session:
            redeem_invite(session, code)
        revoked = install.ctl("invite", "revoke", code[:12])
        assert revoked.exit_code == 0, revoked.output
        with maker() as session:
            session: Session
            try:
                redeem_invite(session, code)
                raise AssertionError("a revoked code was accepted")
            except InviteError:
                pass
    finally:
        engine.dispose()
    again = install.ctl("invite", "revoke", invite["id"])
    assert again.exit_code == 1 and "already revoked" in again.output
    state = {i["id"]: i for i in json.loads(install.ctl("invite", "list", "--json").stdout)}
    assert state[invite["id"]]["revoked_at"] is not None and state[invite["id"]]["uses"] == 1


def test_bad_input(install: Install) -> None:
    assert install.ctl("invite", "create", "--expires", "soon").exit_code == 1
    assert install.ctl("invite", "create", "--uses", "0").exit_code == 2
    missing = install.ctl("invite", "revoke", "nope")
    assert missing.exit_code == 1 and "no invite" in missing.output
