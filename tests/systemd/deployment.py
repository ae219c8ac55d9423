"""The documented installation (deploy/systemd/README.md), done inside a booted container
the way an administrator would do it, and what the tests need to talk to the result."""

from __future__ import annotations

import json
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from tests.support.fake_llm import FakeLLM, opencode_config
from tests.support.server import OPENCODE_HOME, REPO, TOOLS_BIN, free_port, wait_for
from tests.systemd.machine import Machine

# Container accounts share uids with the host (no user namespace): keep platform accounts
# in a range the host's own test accounts never use.
UID_MIN, UID_MAX = 50000, 50999
INSTALL_DIR = "/root/oqto-release"  # what the admin unpacked: wheels + deploy/


@dataclass
class Person:
    name: str
    linux: str
    password: str
    uid: int = 0
    token: str = ""
    sessions: dict[str, str] = field(default_factory=dict)  # workspace -> session id


@dataclass
class Deployment:
    machine: Machine
    llm: FakeLLM
    port: int = field(default_factory=free_port)
    people: dict[str, Person] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def sh(self, command: str, **kwargs: Any) -> str:
        return self.machine.run(command, **kwargs).stdout

    def client(self, person: Person | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {person.token}"} if person else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=120)

    def login(self, person: Person) -> None:
        with self.client() as client:
            response = client.post(
                "/api/auth/login", json={"username": person.name, "password": person.password}
            )
        assert response.status_code == 200, response.text
        person.token = response.json()["token"]

    def wait_healthy(self, timeout: float = 120) -> None:
        def healthy() -> bool:
            return httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200

        wait_for(healthy, timeout, "oqto.service to answer over HTTP")

    def start_session(self, person: Person, workspace: str) -> str:
        with self.client(person) as client:
            created = client.post("/api/sessions", json={"workspace": workspace})
            assert created.status_code == 201, created.text
            sid = str(created.json()["id"])
        person.sessions[workspace] = sid
        self.wait_status(person, sid, "running")
        return sid

    def status(self, person: Person, sid: str) -> dict[str, Any]:
        with self.client(person) as client:
            body: dict[str, Any] = client.get(f"/api/sessions/{sid}").json()
        return body

    def wait_status(self, person: Person, sid: str, wanted: str, timeout: float = 300) -> None:
        def reached() -> bool:
            body = self.status(person, sid)
            if body["status"] == "failed" and wanted != "failed":
                raise AssertionError(f"session failed: {body['error']}")
            return body["status"] == wanted

        wait_for(reached, timeout, f"{person.name}'s session {sid} to be {wanted}", 0.25)

    def session_pids(self, sid: str) -> dict[int, str]:
        """pid -> owner of every process in the container tagged with the session."""
        out = self.sh(
            f"grep -l -a -x -z {shlex.quote('OQTO_SESSION_ID=' + sid)} /proc/[0-9]*/environ "
            "2>/dev/null | cut -d/ -f3 | paste -sd, | xargs -r ps -o pid=,user= -p",
            check=False,
        )
        return {int(pid): user for pid, user in (line.split() for line in out.splitlines())}


def install_steps(deployment: Deployment, wheel: Path, wheels: Path) -> None:
    """Put the release where an admin would have it, then follow docs/deploy.md."""
    m = deployment.machine
    release = m.root / INSTALL_DIR.lstrip("/")
    (release / "wheels").mkdir(parents=True)
    for source in [wheel, *wheels.glob("*.whl")]:
        (release / "wheels" / source.name).write_bytes(source.read_bytes())
    (release / "deploy").mkdir()
    for path in (REPO / "deploy").rglob("*"):
        target = release / "deploy" / path.relative_to(REPO / "deploy")
        if path.is_dir():
            target.mkdir(exist_ok=True)
        else:
            target.write_bytes(path.read_bytes())
    started = time.monotonic()
    # 0. Install the package (the wheel; dependencies from the lock, offline).
    deployment.sh(
        f"python3 -m venv /opt/oqto/venv && /opt/oqto/venv/bin/pip install -q "
        f"--disable-pip-version-check --no-index --find-links {INSTALL_DIR}/wheels "
        f"{INSTALL_DIR}/wheels/{wheel.name} && "
        "for b in oqto oqtoctl oqto-runner oqto-files oqto-usermgr; do "
        "ln -sf /opt/oqto/venv/bin/$b /usr/local/bin/$b; done",
        timeout=600,
    )
    deployment.report["pip_install_seconds"] = round(time.monotonic() - started, 1)
    # 1. Backend service, exactly the guide's commands, run from the unpacked deploy dir.
    deployment.sh(
        f"cd {INSTALL_DIR}/deploy/systemd && "
        "cp oqto.service /etc/systemd/system/ && "
        "systemctl daemon-reload && "
        "useradd -r -s /usr/sbin/nologin oqto && "
        "mkdir -p /var/lib/oqto /etc/oqto && "
        "chown oqto:oqto /var/lib/oqto"
    )
    # The guide's configuration section, plus what this test host needs.
    oc_config = json.dumps(opencode_config(deployment.llm.base_url))
    (m.root / "etc/oqto/opencode.json").write_text(oc_config)
    (m.root / "etc/oqto/config.toml").write_text(
        f"""[server]
listen = "127.0.0.1:{deployment.port}"

[backend]
mode = "local"

[local]
# Socket directory for agent communication
socket_dir = "/run/oqto"

[opencode]
binary = "/usr/local/bin/opencode"
config_file = "/etc/oqto/opencode.json"
start_timeout_seconds = 240

[ttyd]
binary = "/usr/local/bin/ttyd"

[runner]
reconcile_interval_seconds = 2

[provisioning]
uid_min = {UID_MIN}
uid_max = {UID_MAX}
"""
    )
    deployment.sh("chmod 0644 /etc/oqto/config.toml /etc/oqto/opencode.json")
    deployment.sh("systemctl enable --now oqto", timeout=180)


def binds() -> list[tuple[Path, str]]:
    """The tools are the host's (as an admin would copy them in), read-only; the opencode
    plugin directory pre-warmed by the other tests goes into the skeleton, so new homes do
    not download it again."""
    found = [
        ((TOOLS_BIN / "opencode").resolve(), "/usr/local/bin/opencode"),
        ((TOOLS_BIN / "ttyd").resolve(), "/usr/local/bin/ttyd"),
    ]
    warm = OPENCODE_HOME / ".config" / "opencode"
    if warm.is_dir():
        found.append((warm, "/etc/oqto/skel/.config/opencode"))
    return found
