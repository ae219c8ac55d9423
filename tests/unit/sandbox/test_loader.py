"""Reading the policy files from disk: every cause of a refusal names the file (and key),
overlays are read safely, and no overlay file loosens the admin's policy."""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.sandbox.strategies import ADMINS, OVERLAYS, assert_not_looser

from oqto.sandbox.loader import (
    OVERLAY_MAX_BYTES,
    USER_OVERLAY_LABEL,
    ResolvedPolicy,
    load_admin,
    resolve_policy,
)
from oqto.sandbox.merge import ALWAYS
from oqto.sandbox.policy import NetworkMode, SandboxRefused

NOBODY = 65534
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")


def toml(document: dict[str, Any]) -> str:
    """The few TOML shapes policy files use, nested tables inline."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | str):
            return json.dumps(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return "{" + ", ".join(f"{json.dumps(k)} = {value(x)}" for k, x in v.items()) + "}"

    return "".join(f"{json.dumps(k)} = {value(v)}\n" for k, v in document.items())


class World:
    """An admin file, a home and a workspace in a temporary directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.admin = root / "etc" / "sandbox.toml"
        self.home = root / "home"
        self.workspace = self.home / "oqto" / "workspaces" / "u" / "proj"
        self.admin.parent.mkdir()
        self.workspace.mkdir(parents=True)

    @property
    def user_file(self) -> Path:
        return self.home / ".config" / "oqto" / "sandbox.toml"

    @property
    def workspace_file(self) -> Path:
        return self.workspace / ".oqto" / "sandbox.toml"

    def write(self, path: Path, text: str | dict[str, Any]) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text if isinstance(text, str) else toml(text))
        path.chmod(0o644)
        return path

    def resolve(self, hidden: tuple[Path, ...] = ()) -> ResolvedPolicy:
        return resolve_policy(
            self.admin,
            home=self.home,
            workspace=self.workspace,
            default_allow_hosts=("llm.example:443",),
            always_hidden=hidden,
        )

    def refused(self) -> str:
        with pytest.raises(SandboxRefused) as refused:
            self.resolve()
        message = refused.value.message
        assert "\n" not in message
        return message


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


# --- the admin file -------------------------------------------------------------------


def test_no_admin_file_is_the_built_in_default(world: World) -> None:
    resolved = world.resolve()
    assert resolved.policy.enabled and resolved.policy.profile == "development"
    assert resolved.policy.network is NetworkMode.ALLOWLIST
    assert resolved.policy.allow_hosts == ("llm.example:443",)
    assert resolved.files == ("built-in default",)
    assert load_admin(world.admin) is None


def test_the_always_rules(world: World) -> None:
    world.write(world.admin, {"profile": "minimal"})
    resolved = world.resolve(hidden=(Path("/var/lib/oqto"),))
    policy = resolved.policy
    for path in (world.admin, world.home / ".config" / "oqto", world.workspace / ".oqto"):
        assert path in policy.deny_write
    assert Path("/var/lib/oqto") in policy.deny_read
    always = {(s.rule, s.value) for s in resolved.sources if s.source == ALWAYS}
    assert ("deny_write", str(world.admin)) in always
    assert ("deny_read", "/var/lib/oqto") in always
    assert resolved.files == (str(world.admin),)


def test_enabled_and_profile_say_whether_the_admin_file_set_them(world: World) -> None:
    assert [(s.rule, s.value, s.source) for s in world.resolve().sources[:2]] == [
        ("enabled", True, "default"),
        ("profile", "development", "default"),
    ]
    world.write(world.admin, {"profile": "strict"})
    assert [(s.rule, s.value, s.source) for s in world.resolve().sources[:2]] == [
        ("enabled", True, "default"),
        ("profile", "strict", str(world.admin)),
    ]


def test_enabled_false_is_the_only_way_off_and_reads_no_overlay(world: World) -> None:
    world.write(world.admin, {"enabled": False})
    world.write(world.user_file, "this is not toml")
    policy = world.resolve().policy
    assert not policy.enabled and policy.profile == "development"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('profile = "strict"\n[profiles.x\n', "line 2, column"),
        ("enabled = maybe\n", "line 1, column"),
        ("enabld = false\n", "enabld: unknown key (allowed: enabled, profile, profiles)"),
        ('[profiles.x]\ndeny_reads = ["~/.x"]\n', "profiles.x.deny_reads: unknown key"),
        ('[profiles.x.limits]\nmemory_max = "lots"\n', "profiles.x.limits.memory_max: not a size"),
        ('[profiles.x]\nallow_write = ["~/a", "b"]\n', "profiles.x.allow_write[1]: 'b' must be"),
        ('[profiles.x]\nallow_hosts = ["api:https"]\n', "profiles.x.allow_hosts[0]:"),
        ('[profiles.x]\nnetwork = "open"\n', "profiles.x.network: Input should be"),
        ('profile = "nope"\n', "profile: unknown profile 'nope'"),
        ('[profiles.a]\nextends = "b"\n[profiles.b]\nextends = "a"\n', "extends cycle: a -> b"),
        (b"profile = '\xff'\n", "not UTF-8"),
    ],
)
def test_a_bad_admin_file_is_refused_naming_file_and_key(
    world: World, text: str | bytes, problem: str
) -> None:
    world.admin.write_bytes(text if isinstance(text, bytes) else text.encode())
    world.admin.chmod(0o644)
    message = world.refused()
    assert message.startswith(f"{world.admin}: ")
    assert problem in message


@as_root
def test_an_admin_file_owned_by_another_account_is_refused(world: World) -> None:
    os.chown(world.write(world.admin, {}), NOBODY, NOBODY)
    reader = "root" if os.geteuid() == 0 else f"root or uid {os.geteuid()}"
    assert world.refused() == f"{world.admin}: owned by uid {NOBODY}, not {reader}"


@pytest.mark.parametrize("mode", [0o664, 0o646, 0o666])
def test_an_admin_file_writable_by_others_is_refused(world: World, mode: int) -> None:
    world.write(world.admin, {}).chmod(mode)
    assert "writable by group or others" in world.refused()


def test_an_admin_file_that_is_a_directory_is_refused(world: World) -> None:
    world.admin.mkdir()
    assert world.refused() == f"{world.admin}: not a regular file"


def test_an_admin_file_may_be_a_symlink_to_a_good_file(world: World) -> None:
    target = world.write(world.root / "etc" / "real.toml", {"profile": "strict"})
    world.admin.symlink_to(target)
    assert world.resolve().policy.profile == "strict"


# --- the overlays ---------------------------------------------------------------------


def test_both_overlays_apply_with_their_sources(world: World) -> None:
    world.write(world.user_file, {"network": "none"})
    world.write(world.workspace_file, {"deny_read": ["~/private"], "limits": {"tasks_max": 9}})
    resolved = world.resolve()
    assert resolved.policy.network is NetworkMode.NONE
    assert world.home / "private" in resolved.policy.deny_read
    assert resolved.policy.limits.tasks_max == 9
    sources = {(s.rule, str(s.value)): s.source for s in resolved.sources}
    assert sources["network", "none"] == USER_OVERLAY_LABEL
    assert sources["deny_read", str(world.home / "private")] == str(world.workspace_file)
    assert resolved.files == ("built-in default", str(world.user_file), str(world.workspace_file))


@pytest.mark.parametrize("which", ["user_file", "workspace_file"])
def test_a_symlinked_overlay_is_refused(world: World, which: str) -> None:
    path: Path = getattr(world, which)
    target = world.write(world.root / "elsewhere.toml", {})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)
    assert world.refused() == f"{path}: is a symlink"


def test_an_overlay_reached_through_a_symlinked_directory_is_refused(world: World) -> None:
    world.write(world.root / "dotconfig" / "oqto" / "sandbox.toml", {})
    (world.home / ".config").symlink_to(world.root / "dotconfig")
    assert world.refused() == f"{world.home / '.config'}: is a symlink"


def test_an_overlay_directory_that_is_a_file_is_refused(world: World) -> None:
    (world.workspace / ".oqto").write_text("")
    assert world.refused() == f"{world.workspace / '.oqto'}: is not a directory"


def test_an_overlay_that_is_a_directory_is_refused(world: World) -> None:
    world.user_file.mkdir(parents=True)
    assert world.refused() == f"{world.user_file}: not a regular file"


def test_a_fifo_overlay_is_refused_without_waiting_for_a_writer(world: World) -> None:
    world.workspace_file.parent.mkdir()
    os.mkfifo(world.workspace_file)
    outcome: list[str] = []
    reader = threading.Thread(target=lambda: outcome.append(world.refused()), daemon=True)
    reader.start()
    reader.join(timeout=10)
    assert outcome == [f"{world.workspace_file}: not a regular file"]


def test_an_overlay_over_64_kib_is_refused(world: World) -> None:
    world.write(world.user_file, "# " + "x" * OVERLAY_MAX_BYTES + "\n")
    assert world.refused() == f"{world.user_file}: larger than {OVERLAY_MAX_BYTES} bytes"


def test_an_overlay_of_exactly_64_kib_is_read(world: World) -> None:
    text = 'network = "none"\n'
    world.write(world.user_file, text + "#" * (OVERLAY_MAX_BYTES - len(text) - 1) + "\n")
    assert world.resolve().policy.network is NetworkMode.NONE


@as_root
def test_an_overlay_must_be_the_users_or_roots(world: World) -> None:
    os.chown(world.home, NOBODY, NOBODY)
    os.chown(world.write(world.user_file, {"network": "none"}), NOBODY, NOBODY)
    world.write(world.workspace_file, {"pid_namespace": True})  # root's: accepted too
    assert world.resolve().policy.network is NetworkMode.NONE
    os.chown(world.workspace_file, 12345, 12345)
    assert world.refused() == (
        f"{world.workspace_file}: owned by uid 12345, not uid {NOBODY} or root"
    )


def test_an_overlay_others_may_write_is_refused(world: World) -> None:
    world.write(world.user_file, {}).chmod(0o664)
    assert world.refused() == f"{world.user_file}: writable by group or others (mode 664)"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("enabled = false\n", "enabled: unknown key (allowed: profile, deny_read,"),
        ('extra_ro_bind = ["/opt"]\n', "extra_ro_bind: unknown key"),
        ("[profiles.x]\n", "profiles: unknown key"),
        ('[limits]\nmemory_max = "1Q"\n', "limits.memory_max: not a size"),
        ('network = "wide"\n', "network: Input should be"),
        ('network = "none"\nallow_write = [,]\n', "line 2, column"),
        ('profile = "nope"\n', "profile: unknown profile 'nope' (development, minimal, strict)"),
    ],
)
def test_a_bad_overlay_is_refused_naming_file_and_key(
    world: World, text: str, problem: str
) -> None:
    world.write(world.workspace_file, text)
    message = world.refused()
    assert message.startswith(f"{world.workspace_file}: ")
    assert problem in message


def test_an_overlay_names_a_profile_of_the_admin_file(world: World) -> None:
    world.write(world.admin, {"profiles": {"tight": {"extends": "strict", "network": "none"}}})
    world.write(world.user_file, {"profile": "tight"})
    policy = world.resolve().policy
    assert policy.profile == "development"
    assert policy.network is NetworkMode.NONE and policy.limits.required


# --- property: no overlay file loosens the admin's policy ------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    admin=ADMINS,
    user=st.one_of(st.none(), OVERLAYS),
    workspace=st.one_of(st.none(), OVERLAYS),
)
def test_no_overlay_file_loosens_the_admins_policy(
    admin: dict[str, Any], user: dict[str, Any] | None, workspace: dict[str, Any] | None
) -> None:
    with tempfile.TemporaryDirectory() as root:
        world = World(Path(root))
        world.write(world.admin, admin)
        baseline = world.resolve().policy
        for path, overlay in ((world.user_file, user), (world.workspace_file, workspace)):
            if overlay is not None:
                world.write(path, overlay)
        try:
            result = world.resolve().policy
        except SandboxRefused:
            return  # the session does not start: nothing is loosened
        assert_not_looser(baseline, result)
