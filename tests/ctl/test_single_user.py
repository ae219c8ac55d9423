"""`oqtoctl` refuses to add users or invites to a single-user installation."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
from tests.ctl.support import PREFIX, Install, remove_account, unique_name
from tests.support.server import free_port, tool_env, wait_for

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


def test_oqtoctl_administers_the_accounts_own_single_user_server(tmp_path: Path) -> None:
    """An account runs `oqto serve --single-user` with no config at all and loses the
    generated password; `oqtoctl`, run by that account with no flags, finds the same
    data directory, says it is a single-user installation, checks only what applies,
    lists the user and sets a new password the running server accepts."""
    account = PREFIX + unique_name()
    subprocess.run(["useradd", "-m", "-s", "/bin/sh", account], check=True)
    home = f"/home/{account}"
    env = ["env", "-i", f"HOME={home}", f"PATH={tool_env()['PATH']}", "LANG=C.UTF-8"]

    def as_account(*argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["runuser", "-u", account, "--", *env, *argv],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )

    port = free_port()
    log = tmp_path / "serve.log"
    serve = ["oqto", "serve", "--single-user", "--listen", f"127.0.0.1:{port}"]
    server = subprocess.Popen(
        ["runuser", "-u", account, "--", *env, *serve],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            assert server.poll() is None, log.read_text()
            try:
                return httpx.get(f"{url}/api/health", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(up, 60, "oqto serve --single-user to answer")

        listed = as_account("oqtoctl", "user", "list", "--json")
        assert listed.returncode == 0, listed.stdout + listed.stderr
        names = [u["username"] for u in json.loads(listed.stdout)]
        assert len(names) == 1

        doctor = as_account("oqtoctl", "doctor", "--json")
        checks = {c["name"]: c for c in json.loads(doctor.stdout)}
        assert checks["config"]["status"] == "ok", checks["config"]
        assert f"single-user installation of {account}" in checks["config"]["detail"]
        assert f"{home}/.local/share/oqto" in checks["config"]["detail"]
        assert checks["database"]["status"] == "ok", checks["database"]
        assert not {"service account", "systemd"} & set(checks), sorted(checks)

        changed = as_account(
            "oqtoctl", "user", "passwd", names[0], "--password-stdin", stdin="a-new-pass-42\n"
        )
        assert changed.returncode == 0, changed.stdout + changed.stderr
        login = httpx.post(
            f"{url}/api/auth/login", json={"username": names[0], "password": "a-new-pass-42"}
        )
        assert login.status_code == 200, login.text

        refused = as_account("oqtoctl", "runner", "restart", names[0])
        assert refused.returncode != 0 and "has no runners" in refused.stdout + refused.stderr
    finally:
        server.terminate()
        server.wait(30)
        remove_account(account)
