"""Hypothesis strategies for policy files (valid ones, and anything else a person might
write) and the check that one effective policy is not looser than another."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from oqto.sandbox.merge import at_or_beneath
from oqto.sandbox.policy import NetworkMode, SandboxPolicy
from oqto.sandbox.profiles import BUILTIN_PROFILES

_NAMES = st.sampled_from(["a", "b", ".cache", ".ssh", ".config", "oqto", "opencode", ".local"])
PATHS = st.builds(
    lambda root, parts: "/".join([root, *parts]) if parts else root,
    st.sampled_from(["~", "/home/u", "/srv", ""]),
    st.lists(_NAMES, max_size=3),
).map(lambda p: p or "/")
HOSTS = st.sampled_from(["a.example:443", "b.example:443", "llm.example:443", "c.example:80"])
SIZES = st.one_of(st.integers(1, 1 << 34), st.sampled_from(["1G", "512M", "8G", "64K"]))
LIMITS = st.fixed_dictionaries(
    {},
    optional={
        "memory_max": SIZES,
        "tasks_max": st.integers(1, 10_000),
        "cpu_weight": st.integers(1, 10_000),
        "required": st.booleans(),
        "user_memory_max": SIZES,
    },
)
NETWORKS = st.sampled_from([m.value for m in NetworkMode])
PROFILE_KEYS: dict[str, st.SearchStrategy[Any]] = {
    "deny_read": st.lists(PATHS, max_size=4),
    "allow_write": st.lists(PATHS, max_size=4),
    "deny_write": st.lists(PATHS, max_size=3),
    "extra_ro_bind": st.lists(PATHS, max_size=2),
    "pid_namespace": st.booleans(),
    "network": NETWORKS,
    "allow_hosts": st.lists(HOSTS, max_size=3),
    "limits": LIMITS,
}
ADMINS = st.one_of(
    st.builds(lambda name: {"profile": name}, st.sampled_from(sorted(BUILTIN_PROFILES))),
    st.builds(
        lambda extends, profile: {
            "profile": "mine",
            "profiles": {"mine": profile | ({"extends": extends} if extends else {})},
        },
        st.sampled_from([None, *sorted(BUILTIN_PROFILES)]),
        st.fixed_dictionaries({}, optional=PROFILE_KEYS),
    ),
)
OVERLAY_KEYS: dict[str, st.SearchStrategy[Any]] = {
    "profile": st.sampled_from([*sorted(BUILTIN_PROFILES), "mine"]),
    "deny_read": st.lists(PATHS, max_size=3),
    "deny_write": st.lists(PATHS, max_size=3),
    "allow_write": st.lists(PATHS, max_size=4),
    "network": NETWORKS,
    "allow_hosts": st.lists(HOSTS, max_size=3),
    "pid_namespace": st.booleans(),
    "limits": LIMITS,
}
# Valid overlays, and anything else a person might write: unknown keys, wrong types.
OVERLAYS = st.one_of(
    st.fixed_dictionaries({}, optional=OVERLAY_KEYS),
    st.dictionaries(
        st.sampled_from([*OVERLAY_KEYS, "enabled", "extra_ro_bind", "profiles", "extends", "x"]),
        st.one_of(st.booleans(), st.integers(-5, 5), PATHS, st.lists(PATHS, max_size=2), LIMITS),
        max_size=4,
    ),
)


def assert_not_looser(admin: SandboxPolicy, result: SandboxPolicy) -> None:
    assert (result.enabled, result.profile) == (admin.enabled, admin.profile)
    assert set(admin.deny_read) <= set(result.deny_read)
    assert set(admin.deny_write) <= set(result.deny_write)
    denied = [*admin.deny_read, *admin.deny_write]
    for path in result.allow_write:
        assert any(at_or_beneath(path, allowed) for allowed in admin.allow_write), path
        assert not any(at_or_beneath(path, d) for d in denied), path
    assert result.network.narrowness >= admin.network.narrowness
    assert set(result.allow_hosts) <= set(admin.allow_hosts)
    assert result.extra_ro_bind == admin.extra_ro_bind
    assert result.pid_namespace or not admin.pid_namespace
    assert result.limits.required or not admin.limits.required
    for name in ("memory_max", "tasks_max", "cpu_weight"):
        ceiling, value = getattr(admin.limits, name), getattr(result.limits, name)
        assert ceiling is None or (value is not None and value <= ceiling), name
    ceiling, value = admin.user_memory_max, result.user_memory_max
    assert ceiling is None or (value is not None and value <= ceiling)
