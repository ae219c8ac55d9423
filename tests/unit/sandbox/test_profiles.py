"""The policy file models: what each key accepts and refuses, and the built-in profiles."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from oqto.sandbox.policy import NetworkMode
from oqto.sandbox.profiles import (
    BUILTIN_PROFILES,
    OPENCODE_DIRS,
    SECRETS,
    AdminFile,
    LimitsFile,
    OverlayFile,
    ProfileFile,
    format_size,
    parse_size,
)


@pytest.mark.parametrize(
    ("written", "size"),
    [("512M", 512 << 20), ("2G", 2 << 30), ("64k", 64 << 10), ("1T", 1 << 40), (4096, 4096)],
)
def test_sizes_are_binary_units_or_bytes(written: object, size: int) -> None:
    assert LimitsFile.model_validate({"memory_max": written}).memory_max == size


@pytest.mark.parametrize(
    ("size", "shown"), [(4 << 30, "4G"), (1536 << 20, "1536M"), (1 << 40, "1T"), (1000, "1000")]
)
def test_a_size_is_shown_in_the_largest_exact_unit(size: int, shown: str) -> None:
    assert format_size(size) == shown
    assert parse_size(shown) == size


@pytest.mark.parametrize("written", ["5X", "1.5G", "", "-1G", 0, -5, True, 1.5, "G"])
def test_a_bad_size_is_refused(written: object) -> None:
    with pytest.raises(ValidationError):
        LimitsFile.model_validate({"memory_max": written})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("tasks_max", 0),
        ("tasks_max", "100"),
        ("tasks_max", 1.0),
        ("cpu_weight", 0),
        ("cpu_weight", 10_001),
        ("required", "yes"),
        ("required", 1),
        ("user_memory_max", "lots"),
    ],
)
def test_bad_limits_are_refused(key: str, value: object) -> None:
    with pytest.raises(ValidationError):
        LimitsFile.model_validate({key: value})


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("~", "~"),
        ("~/.ssh/", "~/.ssh"),
        ("/srv//data/./x", "/srv/data/x"),
        ("/", "/"),
    ],
)
def test_paths_are_home_relative_or_absolute_and_normalised(written: str, kept: str) -> None:
    assert ProfileFile.model_validate({"deny_read": [written]}).deny_read == (kept,)


@pytest.mark.parametrize(
    "written", ["relative", "./x", "~alice/x", "~/a/../b", "/a/..", "/a\0b", ""]
)
def test_other_paths_are_refused(written: str) -> None:
    with pytest.raises(ValidationError):
        ProfileFile.model_validate({"allow_write": [written]})


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("API.OpenAI.com:443", "api.openai.com:443"),
        ("localhost:8080", "localhost:8080"),
        ("10.0.0.1:80", "10.0.0.1:80"),
        ("[2001:DB8:0:0::1]:443", "[2001:db8::1]:443"),
        ("example.com.:443", "example.com:443"),
        ("bücher.example:443", "xn--bcher-kva.example:443"),
    ],
)
def test_allow_hosts_are_host_port(written: str, kept: str) -> None:
    assert OverlayFile.model_validate({"allow_hosts": [written]}).allow_hosts == (kept,)


@pytest.mark.parametrize(
    "written",
    [
        "example.com",
        "example.com:0",
        "example.com:65536",
        "example.com:https",
        "::1:443",
        "[::1]",
        "[not-v6]:443",
        "exa mple.com:443",
        "-bad.com:443",
        "*.example.com:443",
        "http://example.com:443",
        ":443",
    ],
)
def test_other_hosts_are_refused(written: str) -> None:
    with pytest.raises(ValidationError):
        OverlayFile.model_validate({"allow_hosts": [written]})


def test_network_is_one_of_the_modes() -> None:
    assert ProfileFile.model_validate({"network": "none"}).network is NetworkMode.NONE
    with pytest.raises(ValidationError):
        ProfileFile.model_validate({"network": "open"})


@pytest.mark.parametrize(
    "document",
    [
        {"enable": True},
        {"enabled": "yes"},
        {"profiles": {"x": {"network": "none", "deny_reads": []}}},
        {"profiles": {"x": {"limits": {"memory": "1G"}}}},
        {"profiles": {"x": {"enabled": False}}},
        {"profiles": {"x": {"deny_read": "~/.ssh"}}},
        {"profiles": {"x": {"pid_namespace": "true"}}},
    ],
)
def test_the_admin_file_refuses_unknown_keys_and_wrong_types(document: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        AdminFile.model_validate(document)


@pytest.mark.parametrize(
    "key", ["enabled", "extra_ro_bind", "profiles", "extends", "allow_writes", "user_memory_max"]
)
def test_an_overlay_accepts_only_keys_that_tighten(key: str) -> None:
    with pytest.raises(ValidationError):
        OverlayFile.model_validate({key: []})


def test_an_overlay_takes_every_key_that_tightens() -> None:
    overlay = OverlayFile.model_validate(
        {
            "profile": "strict",
            "deny_read": ["~/x"],
            "deny_write": ["/y"],
            "allow_write": [],
            "network": "none",
            "allow_hosts": ["a.example:443"],
            "pid_namespace": True,
            "limits": {"memory_max": "1G", "tasks_max": 10, "cpu_weight": 5, "required": True},
        }
    )
    assert overlay.allow_write == () and overlay.limits.required is True


def test_the_default_admin_file_is_development_enabled() -> None:
    assert AdminFile() == AdminFile(enabled=True, profile="development", profiles={})


def test_the_built_in_profiles() -> None:
    minimal, development, strict = (
        BUILTIN_PROFILES[n] for n in ("minimal", "development", "strict")
    )
    for profile in (minimal, development, strict):
        assert set(SECRETS) <= set(profile.deny_read)
        assert set(OPENCODE_DIRS) <= set(profile.allow_write)
        assert profile.extends is None
        for persistent in ("~/.bashrc", "~/.profile", "~/.local/bin", "~/.cargo/bin", "~/.config"):
            assert not any(
                persistent == p or persistent.startswith(p + "/") for p in profile.allow_write
            )
    assert (minimal.network, minimal.pid_namespace) == (NetworkMode.HOST, False)
    assert (development.network, development.pid_namespace) == (NetworkMode.ALLOWLIST, True)
    assert development.limits.memory_max and development.limits.tasks_max
    assert not development.limits.required
    assert (strict.network, strict.pid_namespace) == (NetworkMode.ALLOWLIST, True)
    assert "~/.config" in strict.deny_read
    assert set(strict.allow_write) == set(OPENCODE_DIRS)
    assert strict.limits.required and strict.limits.memory_max and strict.limits.tasks_max
