"""Every shipped unit passes `systemd-analyze verify` with no output at all (systemd only
warns about unknown keys and bad values), and oqto.service is hardened to an exposure
level of at most 2.0. Checked on the host against the units as `oqtoctl install-units`
renders them here; the real-systemd test checks the installed ones again in a container."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from oqto.provisioning.units import (
    CONTROL_UNIT,
    SYSTEM_UNITS,
    USER_UNITS,
    deploy_dir,
    render,
)

BIN_DIR = Path(sys.executable).parent  # every program the units name exists here


def rendered(tmp_path: Path, names: tuple[str, ...]) -> list[Path]:
    paths = []
    for name in names:
        path = tmp_path / name
        path.write_text(render((deploy_dir() / "systemd" / name).read_text(), BIN_DIR))
        paths.append(path)
    return paths


def analyze(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_system_units_verify_cleanly(tmp_path: Path) -> None:
    for path in rendered(tmp_path, SYSTEM_UNITS):
        result = analyze("verify", "--man=no", str(path))
        assert (result.returncode, result.stderr, result.stdout) == (0, "", ""), path.name


def test_user_units_verify_cleanly(tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    xdg.mkdir(mode=0o700)
    env = dict(os.environ, XDG_RUNTIME_DIR=str(xdg))
    for path in rendered(tmp_path, USER_UNITS):
        result = analyze("verify", "--user", "--man=no", str(path), env=env)
        assert (result.returncode, result.stderr, result.stdout) == (0, "", ""), path.name


def test_a_bad_unit_is_caught(tmp_path: Path) -> None:
    """The check above would notice: warnings go to stderr with exit code 0."""
    bad = tmp_path / "bad.service"
    bad.write_text("[Service]\nExecStart=/bin/true\nProtectSystem=bogus\nNoSuchKey=1\n")
    result = analyze("verify", "--man=no", str(bad))
    assert result.stderr


def exposure(path: Path) -> float:
    result = analyze("security", "--offline=yes", "--no-pager", str(path))
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert found, result.stdout + result.stderr
    return float(found.group(1))


def test_control_plane_exposure_at_most_2(tmp_path: Path) -> None:
    [path] = rendered(tmp_path, (CONTROL_UNIT,))
    assert exposure(path) <= 2.0


@pytest.mark.parametrize("name", ["oqto-usermgr.service"])
def test_usermgr_is_hardened_as_far_as_its_job_allows(tmp_path: Path, name: str) -> None:
    [path] = rendered(tmp_path, (name,))
    assert exposure(path) <= 3.0


def test_deprecated_units_say_so() -> None:
    for name in ("oqto-agent@.service", "oqto-user.service"):
        text = (deploy_dir() / "systemd" / name).read_text()
        assert text.startswith("# DEPRECATED") and "deprecated" in text.split("[Service]")[1]
