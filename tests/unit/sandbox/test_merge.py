"""Resolving profiles and tightening them with overlays: each rule, and properties that no
overlay can loosen what the admin set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from tests.unit.sandbox.strategies import ADMINS, OVERLAYS, assert_not_looser

from oqto.sandbox.merge import (
    ALWAYS,
    DEFAULT_HOSTS,
    RuleSource,
    add_always,
    apply_overlay,
    finish,
    resolve_profile,
    with_default_hosts,
)
from oqto.sandbox.policy import NetworkMode, SandboxPolicy, SandboxRefused
from oqto.sandbox.profiles import BUILTIN_PROFILES, SECRETS, AdminFile, OverlayFile

HOME = Path("/home/u")
ADMIN = "/etc/oqto/sandbox.toml"
DEFAULT = ("llm.example:443",)


def resolved(
    admin: AdminFile | dict[str, Any], *overlays: OverlayFile | dict[str, Any]
) -> tuple[SandboxPolicy, tuple[RuleSource, ...]]:
    """`admin`'s profile tightened by each overlay in turn (sources overlay0, overlay1...)."""
    admin = AdminFile.model_validate(admin)

    def resolve(name: str) -> Any:
        return resolve_profile(name, admin, admin_label=ADMIN, home=HOME)

    draft = with_default_hosts(resolve(admin.profile), DEFAULT)
    for index, overlay in enumerate(overlays):
        draft = apply_overlay(
            draft,
            OverlayFile.model_validate(overlay),
            source=f"overlay{index}",
            home=HOME,
            resolve=resolve,
        )
    return finish(draft)


def effective(admin: AdminFile | dict[str, Any], *overlays: Any) -> SandboxPolicy:
    return resolved(admin, *overlays)[0]


def source_of(sources: tuple[RuleSource, ...], rule: str, value: object) -> str:
    return next(s.source for s in sources if s.rule == rule and s.value == value)


def home(*parts: str) -> Path:
    return HOME.joinpath(*parts)


# --- profiles and extends -------------------------------------------------------------


def test_each_built_in_resolves_with_its_source() -> None:
    for name in BUILTIN_PROFILES:
        policy, sources = resolved({"profile": name})
        assert policy.profile == name
        assert {home(p[2:]) for p in SECRETS} <= set(policy.deny_read)
        assert source_of(sources, "deny_read", str(home(".ssh"))) == f"built-in profile {name}"


def test_a_profile_without_allow_hosts_gets_the_default_hosts() -> None:
    policy, sources = resolved({})
    assert policy.allow_hosts == DEFAULT
    assert source_of(sources, "allow_hosts", DEFAULT[0]) == DEFAULT_HOSTS


def test_extends_adds_to_lists_and_replaces_the_other_keys() -> None:
    policy, sources = resolved(
        {
            "profile": "mine",
            "profiles": {
                "mine": {
                    "extends": "development",
                    "deny_read": ["/srv/secret", "~/.ssh"],
                    "allow_write": ["~/.rustup/downloads"],
                    "extra_ro_bind": ["/opt/tools"],
                    "network": "none",
                    "allow_hosts": ["api.example:443"],
                    "limits": {"memory_max": "1G"},
                }
            },
        }
    )
    development = effective({"profile": "development"})
    assert set(development.deny_read) | {Path("/srv/secret")} == set(policy.deny_read)
    assert home(".rustup/downloads") in policy.allow_write
    assert set(development.allow_write) < set(policy.allow_write)
    assert policy.extra_ro_bind == (Path("/opt/tools"),)
    assert policy.network is NetworkMode.NONE
    assert policy.allow_hosts == ("api.example:443",)  # not the default any more
    assert policy.limits.memory_max == 1 << 30
    assert policy.limits.tasks_max == development.limits.tasks_max  # inherited, key by key
    mine = f"{ADMIN} [profiles.mine]"
    assert source_of(sources, "deny_read", "/srv/secret") == mine
    # Listed again by the child, it keeps the source that first set it.
    assert source_of(sources, "deny_read", str(home(".ssh"))) == "built-in profile development"
    assert source_of(sources, "limits.memory_max", 1 << 30) == mine
    assert source_of(sources, "limits.tasks_max", 4096) == "built-in profile development"


def test_a_chain_of_extends() -> None:
    policy = effective(
        {
            "profile": "c",
            "profiles": {
                "a": {"extends": "strict", "deny_read": ["/a"]},
                "b": {"extends": "a", "deny_read": ["/b"], "network": "none"},
                "c": {"extends": "b", "deny_read": ["/c"]},
            },
        }
    )
    assert {Path("/a"), Path("/b"), Path("/c"), home(".config")} <= set(policy.deny_read)
    assert policy.network is NetworkMode.NONE and policy.limits.required


def test_a_profile_named_like_a_built_in_replaces_it() -> None:
    policy = effective({"profiles": {"development": {"network": "host"}}})
    assert policy.profile == "development" and policy.network is NetworkMode.HOST
    assert policy.deny_read == () and policy.allow_write == ()


def test_a_profile_extending_its_own_name_extends_the_built_in() -> None:
    policy, sources = resolved(
        {"profiles": {"development": {"extends": "development", "deny_read": ["/srv/x"]}}}
    )
    assert home(".ssh") in policy.deny_read and Path("/srv/x") in policy.deny_read
    assert source_of(sources, "deny_read", "/srv/x") == f"{ADMIN} [profiles.development]"


def test_a_profile_without_extends_starts_from_nothing() -> None:
    policy, sources = resolved({"profile": "bare", "profiles": {"bare": {}}})
    assert (policy.deny_read, policy.allow_write, policy.limits.any) == ((), (), False)
    assert policy.network is NetworkMode.ALLOWLIST and policy.pid_namespace
    assert source_of(sources, "network", "allowlist") == "default"


@pytest.mark.parametrize(
    ("profiles", "message"),
    [
        ({"a": {"extends": "b"}, "b": {"extends": "a"}}, "extends cycle: a -> b -> a"),
        ({"a": {"extends": "a"}}, "[profiles.a] extends itself"),
        (
            {"a": {"extends": "strict"}, "strict": {"extends": "a"}},
            "extends cycle: a -> strict -> a",
        ),
        ({"a": {"extends": "nope"}}, "[profiles.a] extends: unknown profile 'nope'"),
    ],
)
def test_bad_extends_are_refused(profiles: dict[str, Any], message: str) -> None:
    with pytest.raises(SandboxRefused, match="^" + ADMIN + ": .*") as refused:
        effective({"profile": "a", "profiles": profiles})
    assert message in refused.value.message


def test_an_unknown_profile_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(SandboxRefused) as refused:
        effective({"profile": "developmnet"})
    assert refused.value.message == (
        f"{ADMIN}: profile: unknown profile 'developmnet' (development, minimal, strict)"
    )


# --- overlays -------------------------------------------------------------------------


def test_deny_lists_are_a_union() -> None:
    policy, sources = resolved({}, {"deny_read": ["~/private"], "deny_write": ["~/notes"]})
    assert home(".ssh") in policy.deny_read and home("private") in policy.deny_read
    assert policy.deny_write == (home("notes"),)
    assert source_of(sources, "deny_read", str(home("private"))) == "overlay0"


def test_allow_write_keeps_a_path_the_overlay_names_or_an_ancestor_of() -> None:
    policy, sources = resolved(
        {"profile": "strict"}, {"allow_write": ["~/.local", "~/.cache/opencode"]}
    )
    assert set(policy.allow_write) == {
        home(".local/share/opencode"),
        home(".local/state/opencode"),
        home(".cache/opencode"),
    }
    assert source_of(sources, "allow_write", str(home(".cache/opencode"))) == (
        "built-in profile strict"
    )


def test_an_overlay_path_beneath_a_writable_one_becomes_the_narrower_writable_path() -> None:
    policy, sources = resolved({}, {"allow_write": ["~/.cache/pip", "~/.cache/pip/http"]})
    assert set(policy.allow_write) == {home(".cache/pip"), home(".cache/pip/http")}
    assert source_of(sources, "allow_write", str(home(".cache/pip"))) == "overlay0"


def test_allow_write_cannot_add_a_writable_path() -> None:
    assert effective({"profile": "strict"}, {"allow_write": ["~/.bashrc", "/", "~"]}).allow_write
    assert home(".bashrc") not in effective({}, {"allow_write": ["~/.bashrc"]}).allow_write
    assert effective({}, {"allow_write": ["~/.bashrc"]}).allow_write == ()


def test_an_empty_allow_write_leaves_nothing_writable_and_a_missing_one_changes_nothing() -> None:
    assert effective({}, {"allow_write": []}).allow_write == ()
    assert effective({}, {}).allow_write == effective({}).allow_write


def test_a_writable_path_at_or_beneath_a_denied_one_is_dropped() -> None:
    policy = effective(
        {
            "profile": "p",
            "profiles": {
                "p": {
                    "allow_write": ["~/.ssh/sub", "~/docs", "~/ro/x", "~/open"],
                    "deny_read": ["~/.ssh"],
                    "deny_write": ["~/ro"],
                }
            },
        },
        {"deny_read": ["~/docs"]},
    )
    assert policy.allow_write == (home("open"),)


def test_always_rules_drop_writable_paths_beneath_them() -> None:
    draft = resolve_profile(
        "p",
        AdminFile.model_validate({"profiles": {"p": {"allow_write": ["~/.config/oqto/x", "~/a"]}}}),
        admin_label=ADMIN,
        home=HOME,
    )
    policy, sources = finish(
        add_always(draft, deny_read=[Path("/var/lib/oqto")], deny_write=[home(".config/oqto")])
    )
    assert policy.allow_write == (home("a"),)
    assert source_of(sources, "deny_write", str(home(".config/oqto"))) == ALWAYS
    assert source_of(sources, "deny_read", "/var/lib/oqto") == ALWAYS


@pytest.mark.parametrize(
    ("admin", "overlay", "result"),
    [
        ("host", "allowlist", "allowlist"),
        ("host", "none", "none"),
        ("allowlist", "none", "none"),
        ("allowlist", "host", "allowlist"),
        ("none", "host", "none"),
        ("none", "allowlist", "none"),
    ],
)
def test_the_network_only_narrows(admin: str, overlay: str, result: str) -> None:
    admin_file = {"profile": "p", "profiles": {"p": {"extends": "development", "network": admin}}}
    assert effective(admin_file, {"network": overlay}).network == NetworkMode(result)


def test_allow_hosts_are_an_intersection() -> None:
    admin = {"profile": "p", "profiles": {"p": {"allow_hosts": ["a.example:443", "b.example:443"]}}}
    assert effective(admin, {"allow_hosts": ["b.example:443", "c.example:443"]}).allow_hosts == (
        "b.example:443",
    )
    assert effective({}, {"allow_hosts": ["c.example:443"]}).allow_hosts == ()
    assert effective({}, {"allow_hosts": [*DEFAULT]}).allow_hosts == DEFAULT


def test_each_limit_only_lowers() -> None:
    policy, sources = resolved(
        {"profile": "strict"},
        {"limits": {"memory_max": "1G", "tasks_max": 100_000, "cpu_weight": 50}},
    )
    assert policy.limits.memory_max == 1 << 30
    assert policy.limits.tasks_max == 1024
    assert policy.limits.cpu_weight == 50
    assert source_of(sources, "limits.memory_max", 1 << 30) == "overlay0"
    assert source_of(sources, "limits.tasks_max", 1024) == "built-in profile strict"


def test_a_limit_the_admin_left_open_can_be_set() -> None:
    policy = effective(
        {"profile": "minimal"}, {"limits": {"tasks_max": 50, "user_memory_max": "8G"}}
    )
    assert policy.limits.tasks_max == 50 and policy.user_memory_max == 8 << 30


def test_required_and_pid_namespace_only_switch_on() -> None:
    policy = effective(
        {"profile": "minimal"}, {"pid_namespace": True, "limits": {"required": True}}
    )
    assert policy.pid_namespace and policy.limits.required
    policy = effective(
        {"profile": "strict"}, {"pid_namespace": False, "limits": {"required": False}}
    )
    assert policy.pid_namespace and policy.limits.required


def test_naming_a_looser_profile_loosens_nothing() -> None:
    assert effective({"profile": "strict"}, {"profile": "minimal"}) == effective(
        {"profile": "strict"}
    )


def test_naming_a_stricter_profile_tightens_like_its_keys_would() -> None:
    policy, sources = resolved({}, {"profile": "strict"})
    strict = effective({"profile": "strict"})
    assert set(policy.deny_read) == set(strict.deny_read)
    assert set(policy.allow_write) == set(strict.allow_write)
    assert policy.limits == strict.limits
    assert policy.allow_hosts == DEFAULT  # strict sets none: the hosts stay
    assert policy.profile == "development"
    assert source_of(sources, "deny_read", str(home(".config"))) == (
        "built-in profile strict (profile named in overlay0)"
    )


def test_two_overlays_apply_in_turn() -> None:
    policy = effective(
        {},
        {"network": "none", "allow_write": ["~/.cache"]},
        {"network": "allowlist", "allow_write": ["~/.cache/pip", "~/.npm"]},
    )
    assert policy.network is NetworkMode.NONE
    assert policy.allow_write == (home(".cache/pip"),)


# --- properties -----------------------------------------------------------------------


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(admin=ADMINS, overlays=st.lists(OVERLAYS, min_size=1, max_size=2))
def test_no_overlay_loosens_the_admins_policy(
    admin: dict[str, Any], overlays: list[dict[str, Any]]
) -> None:
    baseline = effective(admin)
    try:
        result = effective(admin, *overlays)
    except (ValidationError, SandboxRefused):
        return  # refused: the session does not start, which loosens nothing
    assert_not_looser(baseline, result)
