"""`oqtoctl` refuses to add users or invites to a single-user installation."""

from __future__ import annotations

from tests.ctl.support import PREFIX, Install, unique_name

from oqto.osutil.accounts import lookup


def test_user_create_and_invite_create_are_refused(install: Install) -> None:
    install.write_config(extra="[local]\nsingle_user = true\n")
    name = unique_name()
    created = install.create(name)
    assert created.exit_code == 1
    assert "[local] single_user" in created.output and "single-user mode" in created.output
    assert lookup(PREFIX + name) is None
    invited = install.ctl("invite", "create")
    assert invited.exit_code == 1 and "[local] single_user" in invited.output
    assert "inv_" not in invited.output
