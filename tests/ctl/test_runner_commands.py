"""`oqtoctl runner status|restart|start|logs` without systemd."""

from __future__ import annotations

import json

from tests.ctl.support import PREFIX, Install, unique_name

from oqto.osutil.accounts import lookup
from oqto.provisioning import processes


def test_status_restart_start_logs(install: Install) -> None:
    name = unique_name()
    assert install.create(name).exit_code == 0
    account = lookup(PREFIX + name)
    assert account is not None

    status = install.ctl("runner", "status", name, "--json")
    assert status.exit_code == 0, status.output
    [info] = json.loads(status.stdout)
    assert info["answers"] is True and info["socket"].endswith("oqto-runner.sock")
    assert name in install.ctl("runner", "status").stdout

    before = processes.runner_pids(account.uid)
    restarted = install.ctl("runner", "restart", name)
    assert restarted.exit_code == 0, restarted.output
    after = processes.runner_pids(account.uid)
    assert after and set(after).isdisjoint(before)

    # A runner that died is reported, and `start` brings it back.
    processes.kill_all(account.uid)
    down = install.ctl("runner", "status", name, "--json")
    assert down.exit_code == 1 and json.loads(down.stdout)[0]["answers"] is False
    started = install.ctl("runner", "start", name)
    assert started.exit_code == 0, started.output
    assert install.ctl("runner", "status", name).exit_code == 0

    logs = install.ctl("runner", "logs", name)
    assert logs.exit_code == 0


def test_runner_commands_need_a_database_and_a_known_user(install: Install) -> None:
    result = install.ctl("runner", "restart", "nobody-here")
    assert result.exit_code == 1 and "no database" in result.output
    assert install.ctl("invite", "create").exit_code == 0  # creates the database
    result = install.ctl("runner", "restart", "nobody-here")
    assert result.exit_code == 1 and "no user" in result.output
