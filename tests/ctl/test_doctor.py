"""`oqtoctl doctor`: each finding, and a fix for each failure."""

from __future__ import annotations

import json
import os

from tests.ctl.support import PREFIX, Install, unique_name

from oqto.osutil.accounts import lookup


def checks(install: Install) -> tuple[int, dict[str, dict[str, str]]]:
    result = install.ctl("doctor", "--json")
    return result.exit_code, {c["name"]: c for c in json.loads(result.stdout)}


def test_doctor_on_a_fresh_and_a_broken_install(install: Install) -> None:
    code, found = checks(install)
    assert found["config"]["status"] == "ok"
    assert found["database"]["status"] == "fail" and found["database"]["fix"]
    assert code == 1

    name = unique_name()
    assert install.create(name).exit_code == 0
    code, found = checks(install)
    assert found["database"]["status"] == "ok", found["database"]
    assert found["systemd"]["status"] == "warn"  # no systemd on this host
    assert found[f"runner {name}"]["status"] == "ok", found[f"runner {name}"]
    assert found["service account"]["status"] == "ok", found["service account"]
    for check in found.values():
        assert check["status"] != "fail" or check["fix"], check

    # Break what doctor checks: a socket open to everybody, a readable home.
    account = lookup(PREFIX + name)
    assert account is not None
    socket = f"/run/user/{account.uid}/oqto-runner.sock"
    os.chmod(socket, 0o666)
    os.chmod(account.home, 0o755)
    code, found = checks(install)
    assert code == 1
    runner = found[f"runner {name}"]
    assert runner["status"] == "fail" and "open to other accounts" in runner["detail"]
    assert runner["fix"] == f"oqtoctl runner restart {name}"
    assert found["service account"]["status"] == "fail"
    assert "open to others" in found["service account"]["detail"]
    assert found["service account"]["fix"] == f"chmod 0700 {account.home}"
    human = install.ctl("doctor")
    assert human.exit_code == 1 and "failed" in human.stdout


def test_doctor_reports_an_invalid_config(install: Install) -> None:
    install.config.write_text("[server]\nbogus = 1\n")
    code, found = checks(install)
    assert code == 1 and found["config"]["status"] == "fail"
    assert "unknown key" in found["config"]["detail"]


def test_doctor_checks_the_sandbox_policy_and_bwrap(install: Install) -> None:
    admin = install.root / "sandbox.toml"
    install.write_config(extra=f'[sandbox]\nconfig = "{admin}"\n')
    _code, found = checks(install)
    assert found["sandbox policy"]["status"] == "ok"
    assert "built-in profile development" in found["sandbox policy"]["detail"]
    assert found["user namespaces"]["status"] == "ok", found["user namespaces"]

    admin.write_text('profile = "strict"\n')
    _code, found = checks(install)
    assert found["sandbox policy"]["detail"] == f"{admin} valid, profile strict"

    admin.write_text('[profiles.x]\nnetwork = "wide"\n')
    code, found = checks(install)
    assert code == 1 and found["sandbox policy"]["status"] == "fail"
    assert found["sandbox policy"]["detail"].startswith(f"{admin}: profiles.x.network: ")

    admin.write_text("enabled = false\n")
    _code, found = checks(install)
    assert (
        found["sandbox policy"]["status"] == "warn"
        and "unconfined" in found["sandbox policy"]["detail"]
    )
    assert "user namespaces" not in found  # not needed while sandboxing is off

    admin.unlink()
    install.write_config(extra=f'[sandbox]\nconfig = "{admin}"\nbwrap = "/no/such/bwrap"\n')
    code, found = checks(install)
    assert code == 1 and found["user namespaces"]["status"] == "fail"
    assert "'/no/such/bwrap'" in found["user namespaces"]["detail"]
