"""The documented installation (deploy/systemd/README.md) on a real systemd (PID 1 in a
systemd-nspawn container of a Debian 12 tree), as an administrator would do it: install
the wheel, create the `oqto` account and directories, install and enable the units, start
oqto, `oqtoctl user create` alice and bob, log in over HTTP, run sessions (real opencode,
fake model), read the logs from journald, restart oqto.service and a runner without
losing sessions, and reboot: the runners come back by lingering. Tests run in order and
share one container."""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Iterator

import pytest
from tests.support.fake_llm import FakeLLM
from tests.support.server import wait_for
from tests.systemd.deployment import INSTALL_DIR, Deployment, Person, binds, install_steps
from tests.systemd.gate import require_systemd_test_tools
from tests.systemd.machine import Machine
from tests.systemd.tree import CACHE, build_wheel, dependency_wheels, mounts_below, rootfs

pytestmark = pytest.mark.timeout(1800)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    require_systemd_test_tools()
    started = time.monotonic()
    tree = rootfs()
    wheels = dependency_wheels()
    wheel = build_wheel(tmp_path_factory.mktemp("dist"))
    prepared = time.monotonic() - started
    machine = Machine(tree, binds=binds())
    with FakeLLM() as llm:
        d = Deployment(machine, llm)
        d.report["tree_and_wheels_seconds"] = round(prepared, 1)
        try:
            machine.prepare()
            d.report["boot_seconds"] = [round(machine.boot(), 2)]
            install_steps(d, wheel, wheels)
            d.wait_healthy()
            yield d
        finally:
            if machine.leader:
                with contextlib.suppress(Exception):
                    machine.poweroff()
            forced = machine.cleanup()
            d.report["total_seconds"] = round(time.monotonic() - started, 1)
            d.report["cleanup_forced"] = forced
            (CACHE / "report.json").write_text(json.dumps(d.report, indent=2))
    # Nothing of the run is left on the host.
    assert not machine.run_dir.exists()
    assert not mounts_below(CACHE)
    assert not any(c.exists() for c in machine.cgroups)


@pytest.fixture(scope="module")
def alice(deployment: Deployment) -> Person:
    return deployment.people.setdefault("alice", Person("alice", "alice", "alice-pass-123"))


@pytest.fixture(scope="module")
def bob(deployment: Deployment) -> Person:
    return deployment.people.setdefault("bob", Person("bob", "oqto_bob", "bob-pass-1234"))


def test_oqto_service_runs_as_documented(deployment: Deployment) -> None:
    d = deployment
    assert d.sh("systemctl is-active oqto").strip() == "active"
    assert d.sh("systemctl is-enabled oqto").strip() == "enabled"
    user = d.sh("ps -o user= -p $(systemctl show -p MainPID --value oqto)").strip()
    assert user == "oqto"
    health = d.client().get("/api/health").json()
    assert health["mode"] == "multi-user"  # and it listens where /etc/oqto/config.toml says
    assert d.sh("stat -c '%U:%G %a' /var/lib/oqto").strip() == "oqto:oqto 750"
    assert d.sh("stat -c '%U %a' /var/lib/oqto/oqto.db").split()[0] == "oqto"
    assert d.sh("stat -c '%U %a' /run/oqto").strip() == "oqto 700"
    # Hardening really applies to the running service.
    status = d.sh("cat /proc/$(systemctl show -p MainPID --value oqto)/status")
    assert re.search(r"NoNewPrivs:\s+1", status) and re.search(r"CapEff:\s+0+\n", status)


def test_user_create_alice_and_bob(deployment: Deployment, alice: Person, bob: Person) -> None:
    d = deployment
    for person, extra in ((alice, "--linux-user alice"), (bob, "")):
        result = d.machine.run(
            f"oqtoctl user create {person.name} --email {person.name}@example.com "
            f"--password-stdin {extra}",
            stdin=person.password + "\n",
            timeout=300,
        )
        for step in ("create the Linux user", "enable lingering", "install and start"):
            assert step in result.stderr, result.stderr
        assert "No systemd" not in result.stderr
        person.uid = int(d.sh(f"id -u {person.linux}"))
        assert 50000 <= person.uid <= 50999
        assert d.sh(f"test -e /var/lib/systemd/linger/{person.linux} && echo yes").strip() == "yes"
        state = d.sh(f"systemctl --user -M {person.linux}@ is-active oqto-runner").strip()
        assert state == "active"
        groups = d.sh(f"id -nG {person.linux}").split()
        assert person.linux in groups and "oqto" not in groups
    # Idempotent: a second run changes nothing and succeeds.
    again = d.machine.run("oqtoctl user create bob --email bob@example.com --json")
    assert json.loads(again.stdout)["created"] is False
    status = json.loads(d.sh("oqtoctl runner status --json"))
    assert {s["username"]: s["answers"] for s in status} == {"alice": True, "bob": True}
    assert all(s["systemd"]["active"] == "active" for s in status)


def test_login_and_sessions_run_as_their_users(
    deployment: Deployment, alice: Person, bob: Person
) -> None:
    d = deployment
    for person in (alice, bob):
        d.login(person)
        sid = d.start_session(person, "main")
        owners = d.session_pids(sid)
        assert owners and set(owners.values()) == {person.linux}, owners
        cgroups = d.sh(f"cat /proc/{min(owners)}/cgroup")
        assert f"user@{person.uid}.service" in cgroups
    # The agent really works, as alice, through the control plane.
    sid = alice.sessions["main"]
    with d.client(alice) as client:
        created = client.post(f"/api/sessions/{sid}/agent/session", json={})
        assert created.status_code == 200, created.text
        oc = created.json()["id"]
        model = {"providerID": "fakellm", "modelID": "fake-model"}
        reply = client.post(
            f"/api/sessions/{sid}/agent/session/{oc}/message",
            json={"parts": [{"type": "text", "text": "hello from systemd"}], "model": model},
            timeout=240,
        )
    assert reply.status_code == 200, reply.text
    assert "hello from systemd" in json.dumps(reply.json())


def test_logs_are_in_journald(deployment: Deployment, alice: Person) -> None:
    d = deployment
    assert "Application startup complete" in d.sh("journalctl -u oqto --no-pager -o cat")
    # The guide's `journalctl --user-unit oqto-runner -M alice@` needs a newer systemd than
    # Debian 12's 252 ("No machine 'alice@' known"); these are the documented equivalents.
    as_root = d.sh(
        f"journalctl _SYSTEMD_USER_UNIT=oqto-runner.service _UID={alice.uid} --no-pager -o cat"
    )
    assert "runner listening" in as_root
    as_user = d.sh("runuser -u alice -- journalctl --user -u oqto-runner --no-pager -o cat")
    assert "runner listening" in as_user
    assert "runner listening" in d.sh("oqtoctl runner logs alice")
    seed = d.machine.run("journalctl --user-unit oqto-runner -M alice@ --no-pager", check=False)
    d.report["seed_journalctl_M_user"] = (seed.stdout + seed.stderr).strip()[-200:]


def test_restarts_keep_sessions(deployment: Deployment, alice: Person) -> None:
    d = deployment
    sid = alice.sessions["main"]
    before = d.session_pids(sid)
    d.sh("systemctl restart oqto")
    d.wait_healthy()
    d.sh("systemctl --user -M alice@ restart oqto-runner")
    assert "answers" in d.sh("oqtoctl runner restart alice")
    assert d.session_pids(sid) == before
    assert d.status(alice, sid)["status"] == "running"
    with d.client(alice) as client:
        assert client.get(f"/api/sessions/{sid}/files/tree").status_code == 200
        assert client.get(f"/api/sessions/{sid}/agent/session").status_code == 200
    adopted = d.sh(
        f"journalctl _SYSTEMD_USER_UNIT=oqto-runner.service _UID={alice.uid} -o cat --no-pager"
    )
    assert sid in adopted.split("runner stopping")[-1]  # re-adopted by the new runner


def test_install_units_usermgr_and_registration(deployment: Deployment) -> None:
    d = deployment
    d.sh("oqtoctl install-units")
    d.sh("systemctl enable --now oqto-usermgr", timeout=120)
    assert d.sh("stat -c '%U:%G %a' /run/oqto-usermgr/usermgr.sock").strip() == "root:oqto 660"
    code = json.loads(d.sh("oqtoctl invite create --uses 1 --json"))["code"]
    with d.client() as client:
        response = client.post(
            "/api/auth/register",
            json={"username": "carol", "password": "carol-pass-1", "invite_code": code},
        )
    assert response.status_code == 201, response.text
    carol = Person("carol", "oqto_carol", "carol-pass-1")
    carol.uid = int(d.sh("id -u oqto_carol"))
    d.people["carol"] = carol
    assert d.sh("systemctl --user -M oqto_carol@ is-active oqto-runner").strip() == "active"
    d.login(carol)
    assert "provision oqto_carol" in d.sh("journalctl -u oqto-usermgr -o cat --no-pager")


def test_manual_per_user_setup_from_the_seed(deployment: Deployment) -> None:
    """The guide's by-hand steps for an existing account, then registering it."""
    d = deployment
    d.sh("useradd -m -u 50900 -s /bin/bash dave && loginctl enable-linger dave")
    wait_for(
        lambda: (
            d.machine.run("test -S /run/user/50900/systemd/private", check=False).returncode == 0
        ),
        60,
        "dave's user manager",
    )
    d.sh(f"cp {INSTALL_DIR}/deploy/systemd/oqto-runner.service /tmp/oqto-runner.service")
    d.sh(
        "runuser -u dave -- env XDG_RUNTIME_DIR=/run/user/50900 sh -c '"
        "mkdir -p ~/.config/systemd/user && "
        "cp /tmp/oqto-runner.service ~/.config/systemd/user/ && "
        "systemctl --user daemon-reload && "
        "systemctl --user enable --now oqto-runner'"
    )
    result = d.machine.run(
        "oqtoctl user create dave --email dave@example.com --linux-user dave --adopt "
        "--password-stdin",
        stdin="dave-pass-123\n",
    )
    assert "register the user" in result.stderr
    status = json.loads(d.sh("oqtoctl runner status dave --json"))
    assert status[0]["answers"] is True


def test_deprecated_units(deployment: Deployment, bob: Person) -> None:
    d = deployment
    d.sh("systemctl --user -M oqto_bob@ stop oqto-runner")
    d.sh("systemctl start oqto-agent@bob", timeout=120)
    assert "deprecated" in d.sh("journalctl -u oqto-agent@bob -o cat --no-pager")
    assert d.sh("systemctl --user -M oqto_bob@ is-active oqto-runner").strip() == "active"
    d.sh("systemctl --user -M oqto_bob@ stop oqto-runner")
    d.sh("systemctl --user -M oqto_bob@ start oqto-user")
    assert d.sh("systemctl --user -M oqto_bob@ is-active oqto-user oqto-runner").split() == [
        "active",
        "active",
    ]
    log = d.sh(f"journalctl _UID={bob.uid} -o cat --no-pager")
    assert "oqto-user.service is deprecated" in log
    assert json.loads(d.sh("oqtoctl runner status bob --json"))[0]["answers"] is True


def test_installed_units_verify_and_exposure(deployment: Deployment) -> None:
    d = deployment
    system = "oqto.service oqto-usermgr.service oqto-agent@.service"
    result = d.machine.run(
        f"cd /etc/systemd/system && systemd-analyze verify --man=no {system}", check=False
    )
    assert (result.returncode, result.stderr) == (0, "")
    user = d.machine.run(
        "runuser -u alice -- env XDG_RUNTIME_DIR=/run/user/$(id -u alice) systemd-analyze "
        "verify --user --man=no /home/alice/.config/systemd/user/oqto-runner.service "
        "/etc/systemd/user/oqto-user.service",
        check=False,
    )
    assert (user.returncode, user.stderr) == (0, "")
    exposure = {}
    for unit in ("oqto.service", "oqto-usermgr.service", "oqto-agent@bob.service"):
        out = d.sh(f"systemd-analyze security --no-pager {unit}")
        exposure[unit] = float(re.findall(r"exposure level for \S+: (\d+\.\d+)", out)[0])
    out = d.sh(
        "runuser -u alice -- env XDG_RUNTIME_DIR=/run/user/$(id -u alice) "
        "systemd-analyze security --user --no-pager oqto-runner.service"
    )
    exposure["oqto-runner.service (user)"] = float(
        re.findall(r"exposure level for \S+: (\d+\.\d+)", out)[0]
    )
    d.report["exposure"] = exposure
    assert exposure["oqto.service"] <= 2.0


def doctor(d: Deployment) -> tuple[int, dict[str, dict[str, str]]]:
    result = d.machine.run("oqtoctl doctor --json", check=False)
    return result.returncode, {c["name"]: c for c in json.loads(result.stdout)}


def test_doctor_finds_the_by_hand_home_and_is_then_clean(deployment: Deployment) -> None:
    """Debian's useradd -m makes 0755 homes: doctor says so, and how to fix it."""
    code, checks = doctor(deployment)
    assert code == 1 and checks["service account"]["fix"] == "chmod 0700 /home/dave"
    deployment.sh(checks["service account"]["fix"])
    code, checks = doctor(deployment)
    failed = {n: c for n, c in checks.items() if c["status"] == "fail"}
    assert code == 0 and not failed, failed
    assert checks["runner alice"]["status"] == "ok"
    assert checks["user namespaces"]["status"] == "ok"


def test_reboot_brings_runners_back(deployment: Deployment, alice: Person, bob: Person) -> None:
    d = deployment
    d.report["poweroff_seconds"] = round(d.machine.poweroff(), 2)
    d.report["boot_seconds"].append(round(d.machine.boot(), 2))
    d.wait_healthy()
    status = json.loads(d.sh("oqtoctl runner status --json"))
    assert all(s["answers"] for s in status), status
    assert {s["username"] for s in status} >= {"alice", "bob", "carol", "dave"}
    # Sessions did not survive the reboot; the control plane notices and they can resume.
    sid = alice.sessions["main"]
    d.login(alice)
    d.wait_status(alice, sid, "stopped", timeout=120)
    with d.client(alice) as client:
        assert client.post(f"/api/sessions/{sid}/resume").status_code == 200
    d.wait_status(alice, sid, "running")


def test_user_delete(deployment: Deployment, bob: Person) -> None:
    d = deployment
    d.sh("oqtoctl user delete bob --yes")
    assert d.machine.run("id oqto_bob", check=False).returncode != 0
    assert d.sh("ls /var/lib/systemd/linger").split() == ["alice", "dave", "oqto_carol"]
    assert d.sh(f"ps -o pid= -u {bob.uid} || true").strip() == ""
    with d.client() as client:
        login = client.post("/api/auth/login", json={"username": "bob", "password": bob.password})
    assert login.status_code == 401
