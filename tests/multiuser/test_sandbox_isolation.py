"""Escapes across accounts: a sandboxed session of one platform user (the default
profile, development) against another user's home, even a file that user made
world-readable, the runner's own state and the user's other session; through the
terminal and through the agent's bash tool, then what the host saw."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.multiuser.platform import MultiUserPlatform, PlatformUser, run_as
from tests.multiuser.test_isolation import session_of
from tests.support import escape
from tests.support.escape import Observed, Session
from tests.support.fake_llm import FakeLLM

READ = "import sys; print(open(sys.argv[1]).read())"


@pytest.fixture(scope="module")
def admin_file(platform: MultiUserPlatform) -> Iterator[Path]:
    path = platform.sandbox_path
    assert not path.exists(), "another test left an admin sandbox file"
    path.write_text('profile = "development"\n')
    path.chmod(0o644)
    try:
        yield path
    finally:
        path.unlink()


@pytest.fixture(scope="module")
def shared_by_bob(bob: PlatformUser) -> Iterator[Path]:
    """A file bob made world-readable, in a home he opened to everyone."""
    home = bob.account.home
    mode = home.stat().st_mode & 0o7777
    home.chmod(0o755)
    shared = escape.plant(
        home / "shared.txt", "bob's, for everyone\n", (bob.account.uid, bob.account.gid), 0o644
    )
    try:
        yield shared
    finally:
        shared.unlink()
        home.chmod(mode)


@pytest.fixture(scope="module")
def observed(
    platform: MultiUserPlatform,
    alice: PlatformUser,
    bob: PlatformUser,
    admin_file: Path,
    shared_by_bob: Path,
    mu_llm: FakeLLM,
    platform_root: Path,
) -> tuple[dict[str, Any], dict[str, Any], Observed]:
    """Alice's session escaped from, while her second session runs beside it."""
    planted = escape.plant_home(alice.account.home, (alice.account.uid, alice.account.gid))
    session = session_of(platform, alice, "escape")
    other = session_of(platform, alice, "escape-other")
    home = alice.account.home
    runtime = Path(f"/run/user/{alice.account.uid}/oqto")
    workspace = home / "oqto" / "workspaces" / alice.name / "escape"
    target = Session(
        base_url=platform.url,
        authorization=f"Bearer {alice.token}",
        session_id=session["id"],
        workspace=workspace,
        home=home,
        owner=(alice.account.uid, alice.account.gid),
        runtime=runtime,
        server_port=platform.port,
        admin_file=admin_file,
        private_dirs=[home / ".local" / "state" / "oqto", platform.root / "cp-data"],
        extra_write_targets=[
            bob.account.home / "shared.txt",
            home / ".profile",
            home / ".config" / "systemd" / "user" / "escape.service",
        ],
        other_home=bob.account.home,
        other_file=shared_by_bob,
    )
    with platform.client(alice) as client:
        seen = escape.observe(client, target, planted, mu_llm, platform_root / "opencode.json")
        assert client.post(f"/api/sessions/{other['id']}/stop").json()["status"] == "stopped"
    return session, other, seen


def test_alice_could_read_bobs_file_without_the_sandbox(
    alice: PlatformUser, shared_by_bob: Path
) -> None:
    """Else hiding it would prove nothing."""
    assert run_as(alice.account, READ, str(shared_by_bob)).stdout.startswith("bob's")


def test_the_probe_ran_in_both(observed: tuple[Any, Any, Observed]) -> None:
    escape.assert_probe_ran(observed[2])


def test_the_session_is_sandboxed(observed: tuple[Any, Any, Observed]) -> None:
    sandbox = observed[0]["sandbox"]
    assert sandbox["enabled"] is True and sandbox["profile"] == "development"


def test_other_homes_and_secrets_are_hidden(observed: tuple[Any, Any, Observed]) -> None:
    o = observed[2]
    assert o.verdicts("other_home_list") == {"terminal": "hidden", "tool": "hidden"}
    escape.assert_secrets_hidden(o)


def test_writes_are_confined(observed: tuple[Any, Any, Observed]) -> None:
    escape.assert_writes_confined(observed[2])


def test_no_terminal_injection_no_nested_namespace(observed: tuple[Any, Any, Observed]) -> None:
    escape.assert_no_injection_no_userns(observed[2])


def test_processes_are_hidden(observed: tuple[Any, Any, Observed]) -> None:
    escape.assert_processes_hidden(observed[2])


def test_network_is_the_allow_list(observed: tuple[Any, Any, Observed]) -> None:
    escape.assert_network_allowlisted(observed[2])


def test_the_other_sessions_sockets_are_out_of_sight(
    observed: tuple[Any, Any, Observed],
) -> None:
    escape.assert_own_sockets_only(observed[2])


def test_nothing_survives_a_stop(observed: tuple[Any, Any, Observed]) -> None:
    escape.assert_nothing_survives_a_stop(observed[2])


def test_allowed_work_still_works(observed: tuple[Any, Any, Observed]) -> None:
    escape.assert_allowed_work(observed[2])
