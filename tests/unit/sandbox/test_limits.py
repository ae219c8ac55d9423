"""oqto.sandbox.limits without a user manager: why detection says no, the argv a session's
service runs under, the slice properties, and refusing names that are not safe as units.
Enforcement itself is checked on a real kernel in tests/vm/."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from oqto.sandbox import limits
from oqto.sandbox.limits import LimitsSupport
from oqto.sandbox.policy import Limits, SandboxRefused

pytestmark = pytest.mark.anyio

SID = "0123456789abcdef"


@pytest.fixture
def enforced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A manager that has limits, with its cgroup tree under tmp_path."""
    found = LimitsSupport(True, runtime_dir=Path("/run/user/4242"), manager_cgroup="/u@.service")
    monkeypatch.setattr(limits, "support", lambda: found)
    monkeypatch.setattr(limits, "CGROUP_ROOT", tmp_path)
    return tmp_path


@pytest.fixture
def unenforced(monkeypatch: pytest.MonkeyPatch) -> None:
    found = LimitsSupport(False, reason="cgroup v1 host: no cgroup2 memory controller")
    monkeypatch.setattr(limits, "support", lambda: found)


def test_a_cgroup_v1_host_has_no_limits(tmp_path: Path) -> None:
    found = limits.detect(cgroup_root=tmp_path)
    assert not found.available
    assert found.reason.startswith("cgroup v1 host:")
    assert "no cgroup2 memory controller" in found.reason


def test_no_user_manager_is_named_with_the_uid(tmp_path: Path) -> None:
    (tmp_path / "cgroup.controllers").write_text("cpu memory pids\n")
    runtime = tmp_path / "run"
    runtime.mkdir()
    found = limits.detect(cgroup_root=tmp_path, environ={"XDG_RUNTIME_DIR": str(runtime)})
    assert not found.available
    if shutil.which("systemctl") and shutil.which("systemd-run"):
        assert found.reason.startswith(f"no user systemd manager for uid {os.getuid()}:")
        assert str(runtime) in found.reason
    else:
        assert "systemd is not installed" in found.reason


def test_this_process_detects_once() -> None:
    first = limits.support()
    assert limits.support() is first
    assert first.available or first.reason


def test_wrap_runs_the_service_in_a_scope_of_the_session_slice(enforced: Path) -> None:
    argv = ["bwrap", "--", "opencode", "serve"]
    wrapped = limits.wrap(argv, session_id=SID, service="agent")
    assert wrapped[:2] == ["env", "XDG_RUNTIME_DIR=/run/user/4242"]
    assert wrapped[2:7] == ["systemd-run", "--user", "--scope", "--quiet", "--collect"]
    assert f"--slice=oqto-{SID}.slice" in wrapped
    assert wrapped[-5:] == ["--", *argv]
    [unit] = [a for a in wrapped if a.startswith("--unit=")]
    assert unit.startswith(f"--unit=oqto-{SID}-agent-")
    again = limits.wrap(argv, session_id=SID, service="agent")
    assert unit not in again  # a restarted service gets a new scope


@pytest.mark.parametrize("bad", ["", "a-b", "../x", "a b", "ab.slice", "é", "a" * 65])
def test_names_that_are_not_safe_units_are_refused(enforced: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="ASCII letters and digits"):
        limits.wrap(["true"], session_id=bad, service="agent")
    with pytest.raises(ValueError):
        limits.wrap(["true"], session_id=SID, service=bad)


def test_slice_properties() -> None:
    assert limits.session_properties(Limits()) == []
    assert limits.session_properties(Limits(memory_max=512 << 20, tasks_max=64, cpu_weight=50)) == [
        "MemoryMax=536870912",
        "MemorySwapMax=0",
        "TasksMax=64",
        "CPUWeight=50",
    ]
    assert limits.user_properties(2 << 30) == ["MemoryMax=2147483648", "MemorySwapMax=0"]
    # A cap the admin removed is lifted, not left on the slice.
    assert limits.user_properties(None) == ["MemoryMax=infinity", "MemorySwapMax=infinity"]


def test_usage_reads_the_session_cgroup(enforced: Path) -> None:
    assert limits.usage(SID) == {}
    cgroup = enforced / "u@.service" / "oqto.slice" / f"oqto-{SID}.slice"
    assert limits.session_cgroup(SID) == cgroup
    cgroup.mkdir(parents=True)
    (cgroup / "memory.current").write_text("123456\n")
    (cgroup / "pids.current").write_text("7\n")
    assert limits.usage(SID) == {"memory_current": 123456, "tasks_current": 7}


@pytest.mark.usefixtures("unenforced")
async def test_without_support_limits_are_refused_with_the_reason() -> None:
    with pytest.raises(SandboxRefused, match="cgroup v1 host: no cgroup2 memory controller"):
        await limits.apply(SID, Limits(memory_max=1 << 30), None)
    with pytest.raises(SandboxRefused, match="cannot be enforced"):
        limits.wrap(["true"], session_id=SID, service="agent")
    assert limits.usage(SID) == {}
    await limits.cleanup(SID)  # nothing to clean up, and no error
