"""Escape attempts through real sessions, one per built-in profile, via the terminal
(ttyd's WebSocket) and via the agent's bash tool (the fake model calls it), and what the
host saw of them; and the sandbox failing closed: whatever keeps it from holding keeps
the session from starting.

`strict` requires resource limits, which this host cannot enforce, so its escapes run
under an admin profile extending it without requiring them (`strict` itself must refuse
to start here: see the fail-closed tests)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support import escape
from tests.support.escape import Observed, Session
from tests.support.fake_llm import FakeLLM
from tests.support.opencode_smoke import seed_opencode_home
from tests.support.server import OPENCODE_HOME, OqtoServer, stopped_cleanly, wait_for

PROFILES = {
    "minimal": 'profile = "minimal"\n',
    "development": 'profile = "development"\n',
    "hoststrict": """profile = "hoststrict"
[profiles.hoststrict]
extends = "strict"
[profiles.hoststrict.limits]
required = false
""",
}
# Own PID and network namespaces (network allowlist); minimal keeps the host's.
ISOLATED = {"development", "hoststrict"}
WORKSPACE = "escape"
Seen = tuple[str, dict[str, Any], Observed]  # profile, the session's record, the escapes


def sandboxed_server(
    root: Path, opencode_json: Path, admin_text: str | None, extra: str = "", warm: bool = True
) -> OqtoServer:
    """A single-user server whose sessions read the admin file `admin_text` (None: no
    file), with a HOME of its own, so that planted secrets are the session owner's.
    `extra` goes into the config's `[sandbox]` table. `warm`: opencode has run in that
    home before (its config dir holds what opencode writes there on a first start)."""
    home = root / "home"
    if warm:
        shutil.copytree(
            OPENCODE_HOME / ".config" / "opencode",
            home / ".config" / "opencode",
            ignore=shutil.ignore_patterns("node_modules"),
        )
    seed_opencode_home(home)
    srv = OqtoServer(
        root / "srv", opencode_config=opencode_json, sandbox=admin_text, extra_config=extra
    )
    srv.env["HOME"] = str(home)
    return srv


@pytest.fixture(scope="module", params=list(PROFILES))
def observed(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    opencode_json: Path,
    fake_llm: FakeLLM,
) -> Iterator[Seen]:
    """One session per profile, escaped from; the profile, its API record and what the
    escapes found."""
    profile: str = request.param
    srv = sandboxed_server(
        tmp_path_factory.mktemp(f"escape-{profile}"), opencode_json, PROFILES[profile]
    )
    planted = escape.plant_home(Path(srv.env["HOME"]), None)
    srv.start()
    try:
        with srv.client(srv.login()) as client:
            created = client.post("/api/sessions", json={"workspace": WORKSPACE})
            assert created.status_code == 201, created.text
            record = srv.wait_status(client, created.json()["id"], "running")
            session = escape_target(srv, client, record)
            yield profile, record, escape.observe(client, session, planted, fake_llm, opencode_json)
    finally:
        stopped_cleanly(srv)


def escape_target(srv: OqtoServer, client: httpx.Client, record: dict[str, Any]) -> Session:
    (workspace,) = srv.workspaces.glob(f"*/{record['workspace']}")
    return Session(
        base_url=srv.url,
        authorization=str(client.headers["Authorization"]),
        session_id=record["id"],
        workspace=workspace,
        home=Path(srv.env["HOME"]),
        owner=None,
        runtime=srv.runtime,
        server_port=srv.port,
        admin_file=srv.sandbox_path,
        private_dirs=[srv.root / "data"],
        extra_write_targets=[srv.config_path],
    )


def isolated(observed: Seen) -> Observed:
    profile, _, o = observed
    if profile not in ISOLATED:
        pytest.skip("minimal keeps the host's PID and network namespaces")
    return o


def test_the_probe_ran_in_both(observed: Seen) -> None:
    escape.assert_probe_ran(observed[2])


def test_the_session_reports_its_sandbox(observed: Seen) -> None:
    profile, record, _ = observed
    sandbox = record["sandbox"]
    assert sandbox["enabled"] is True
    assert sandbox["profile"] == profile
    assert sandbox["pid_namespace"] is (profile in ISOLATED)
    assert sandbox["network"] == ("allowlist" if profile in ISOLATED else "host")


def test_secrets_are_hidden(observed: Seen) -> None:
    escape.assert_secrets_hidden(observed[2])


def test_writes_are_confined(observed: Seen) -> None:
    escape.assert_writes_confined(observed[2])


def test_no_terminal_injection_no_nested_namespace(
    observed: Seen,
) -> None:
    escape.assert_no_injection_no_userns(observed[2])


def test_allowed_work_still_works(observed: Seen) -> None:
    escape.assert_allowed_work(observed[2])


def test_host_processes(observed: Seen) -> None:
    profile, _, o = observed
    if profile in ISOLATED:
        escape.assert_processes_hidden(o)
    else:  # no PID namespace: were these hidden, the profiles would be mixed up
        assert o.verdicts("host_procs") == {"terminal": "VISIBLE", "tool": "VISIBLE"}


def test_network_is_the_allow_list(observed: Seen) -> None:
    escape.assert_network_allowlisted(isolated(observed))


def test_sockets_are_the_services_own(observed: Seen) -> None:
    escape.assert_own_sockets_only(isolated(observed))


def test_nothing_survives_a_stop(observed: Seen) -> None:
    escape.assert_nothing_survives_a_stop(isolated(observed))


def test_without_a_sandbox_the_probe_gets_out(
    tmp_path: Path, opencode_json: Path, fake_llm: FakeLLM
) -> None:
    """The control run: with `enabled = false` the same attempts succeed, so each check
    above can tell an escape from a refusal."""
    srv = sandboxed_server(tmp_path, opencode_json, "enabled = false\n")
    planted = escape.plant_home(Path(srv.env["HOME"]), None)
    srv.start()
    try:
        session = start(srv, WORKSPACE, "running")
        with srv.client(srv.login()) as client:
            o = escape.observe(
                client, escape_target(srv, client, session), planted, fake_llm, opencode_json
            )
    finally:
        stopped_cleanly(srv)
    assert session["sandbox"]["enabled"] is False
    for prefix in ("secret:", "late:"):
        assert {v[0] for v in o.every(prefix).values()} == {"LEAK"}, o.every(prefix)
    for check in ("ssh_glob", "symlink"):
        assert o.verdicts(check) == {"terminal": "LEAK", "tool": "LEAK"}, check
    assert o.verdicts("host_procs") == {"terminal": "VISIBLE", "tool": "VISIBLE"}
    for check in ("loopback", "host_ip", "llm_direct"):
        assert o.verdicts(check) == {"terminal": "OPEN", "tool": "OPEN"}, check
    assert o.listener_peers
    assert o.verdicts("tiocsti_pty") == {"terminal": "INJECTED", "tool": "INJECTED"}
    assert o.results["terminal"]["tiocsti_tty"][0] == "INJECTED"
    assert o.verdicts("unshare_call") == {"terminal": "ALLOWED", "tool": "ALLOWED"}
    home = o.session.home
    assert {str(home / ".bashrc"), f"/var/tmp/escape-{o.run}"} <= set(o.changed)


# -- failing closed ----------------------------------------------------------------


def write_admin_file(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o644)


@pytest.fixture(scope="module")
def closed(
    tmp_path_factory: pytest.TempPathFactory, opencode_json: Path
) -> Iterator[tuple[OqtoServer, Path]]:
    root = tmp_path_factory.mktemp("sandbox-closed")
    srv = sandboxed_server(root, opencode_json, PROFILES["development"]).start()
    try:
        yield srv, srv.sandbox_path
    finally:
        stopped_cleanly(srv)


def start(srv: OqtoServer, workspace: str, *wanted: str) -> dict[str, Any]:
    with srv.client(srv.login()) as client:
        created = client.post("/api/sessions", json={"workspace": workspace})
        assert created.status_code == 201, created.text
        return srv.wait_status(client, created.json()["id"], *wanted)


def refused(srv: OqtoServer, workspace: str, *naming: str) -> str:
    """Start a session that must fail closed; its reason names `naming`."""
    failed = start(srv, workspace, "failed", "running")
    assert failed["status"] == "failed", f"started anyway: {failed}"
    error: str = failed["error"] or ""
    for word in naming:
        assert word in error, (word, error)
    wait_for(
        lambda: f"session={failed['id']} code=sandbox_refused" in srv.log(),
        10,
        "the refusal in the server's log",
    )
    with srv.client(srv.login()) as client:
        assert client.delete(f"/api/sessions/{failed['id']}").status_code == 204
    return error


def test_a_parse_error_refuses(closed: tuple[OqtoServer, Path]) -> None:
    srv, admin_file = closed
    write_admin_file(admin_file, 'profile = "development"\n[profiles\n')
    refused(srv, "closed-parse", str(admin_file))


def test_an_unknown_key_refuses(closed: tuple[OqtoServer, Path]) -> None:
    srv, admin_file = closed
    write_admin_file(admin_file, 'profile = "development"\nno_such_key = true\n')
    refused(srv, "closed-key", str(admin_file), "no_such_key")


def test_a_writable_admin_file_refuses(closed: tuple[OqtoServer, Path]) -> None:
    srv, admin_file = closed
    write_admin_file(admin_file, PROFILES["development"])
    admin_file.chmod(0o666)
    try:
        refused(srv, "closed-mode", str(admin_file))
    finally:
        admin_file.chmod(0o644)


def test_a_workspace_file_cannot_switch_it_off(closed: tuple[OqtoServer, Path]) -> None:
    srv, admin_file = closed
    write_admin_file(admin_file, PROFILES["development"])
    overlay = srv.workspaces / "admin" / "closed-overlay" / ".oqto" / "sandbox.toml"
    overlay.parent.mkdir(parents=True, mode=0o700)
    overlay.write_text("enabled = false\n")
    refused(srv, "closed-overlay", str(overlay), "enabled")


def test_strict_refuses_where_limits_cannot_be_enforced(closed: tuple[OqtoServer, Path]) -> None:
    srv, admin_file = closed
    write_admin_file(admin_file, 'profile = "strict"\n')
    error = refused(srv, "closed-strict", "strict")
    assert "limit" in error.lower(), error


def test_a_missing_admin_file_is_the_default_profile(closed: tuple[OqtoServer, Path]) -> None:
    srv, admin_file = closed
    admin_file.unlink()
    try:
        session = start(srv, "closed-missing", "running")
    finally:
        write_admin_file(admin_file, PROFILES["development"])
    assert session["sandbox"]["enabled"] is True
    assert session["sandbox"]["profile"] == "development"
    stop_and_delete(srv, session)


def test_only_enabled_false_runs_unsandboxed(closed: tuple[OqtoServer, Path]) -> None:
    srv, admin_file = closed
    write_admin_file(admin_file, "enabled = false\n")
    try:
        session = start(srv, "closed-off", "running")
    finally:
        write_admin_file(admin_file, PROFILES["development"])
    assert session["sandbox"]["enabled"] is False
    stop_and_delete(srv, session)


def stop_and_delete(srv: OqtoServer, session: dict[str, Any]) -> None:
    with srv.client(srv.login()) as client:
        assert client.post(f"/api/sessions/{session['id']}/stop").json()["status"] == "stopped"
        assert client.delete(f"/api/sessions/{session['id']}").status_code == 204


def test_the_agent_answers_in_a_fresh_home(tmp_path: Path, opencode_json: Path) -> None:
    """A new account's first session: opencode has never run in this home."""
    srv = sandboxed_server(tmp_path, opencode_json, None, warm=False).start()
    try:
        session = start(srv, "fresh-home", "running")
        with srv.client(srv.login()) as client:
            created = client.post(f"/api/sessions/{session['id']}/agent/session", json={})
            assert created.status_code == 200, created.text
        stop_and_delete(srv, session)
    finally:
        stopped_cleanly(srv)


def test_a_missing_bwrap_refuses(tmp_path: Path, opencode_json: Path) -> None:
    missing = tmp_path / "no" / "bwrap"
    srv = sandboxed_server(
        tmp_path, opencode_json, PROFILES["development"], f'bwrap = "{missing}"\n'
    ).start()
    try:
        refused(srv, "no-bwrap", "bwrap")
    finally:
        stopped_cleanly(srv)
