"""`oqtoctl config validate` and `oqtoctl install-units`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.ctl.support import Install

from oqto.provisioning.units import SYSTEM_UNITS, USER_UNITS


def test_config_validate(install: Install, tmp_path: Path) -> None:
    ok = install.ctl("config", "validate", str(install.config), "--json")
    assert ok.exit_code == 0
    assert json.loads(ok.stdout) == {"valid": True, "path": str(install.config), "errors": []}
    assert "is valid" in install.ctl("config", "validate").stdout  # --config is the default

    bad = tmp_path / "bad.toml"
    bad.write_text('[server]\nlisten = "nope"\ntypo = 1\n[provisioning]\nuid_min = 5\n')
    result = install.ctl("config", "validate", str(bad), "--json")
    assert result.exit_code == 1
    errors = json.loads(result.stdout)["errors"]
    assert any("listen" in e for e in errors) and any("typo: unknown key" in e for e in errors)
    assert any("uid_min" in e for e in errors)
    human = install.ctl("config", "validate", str(bad))
    assert human.exit_code == 1 and "unknown key" in human.output
    missing = install.ctl("config", "validate", str(tmp_path / "none.toml"))
    assert missing.exit_code == 1 and "not found" in missing.output


def test_install_units_into_a_root(install: Install, tmp_path: Path) -> None:
    bin_dir = Path(sys.executable).parent
    result = install.ctl("install-units", "--root", str(tmp_path), "--bin-dir", str(bin_dir))
    assert result.exit_code == 0, result.output
    for name in SYSTEM_UNITS:
        text = (tmp_path / "etc/systemd/system" / name).read_text()
        assert "/usr/local/bin/" not in text
    for name in USER_UNITS:
        assert (tmp_path / "etc/systemd/user" / name).is_file()
    assert (
        f"ExecStart={bin_dir}/oqto serve"
        in (tmp_path / "etc/systemd/system/oqto.service").read_text()
    )
    assert (tmp_path / "etc/tmpfiles.d/oqto.conf").read_text().startswith("# Oqto")
    config = tmp_path / "etc/oqto/config.toml"
    assert install.ctl("config", "validate", str(config)).exit_code == 0
    again = install.ctl("install-units", "--root", str(tmp_path), "--bin-dir", str(bin_dir))
    assert "installed" not in again.stdout and again.stdout.count("unchanged") == 6
    # What it installed verifies cleanly (warnings count as failures).
    xdg = tmp_path / "xdg"
    xdg.mkdir(mode=0o700)
    env = dict(os.environ, XDG_RUNTIME_DIR=str(xdg))
    for scope, directory, names in (
        ("--system", "etc/systemd/system", SYSTEM_UNITS),
        ("--user", "etc/systemd/user", USER_UNITS),
    ):
        paths = [str(tmp_path / directory / n) for n in names]
        verify = subprocess.run(
            ["systemd-analyze", "verify", scope, "--man=no", *paths],
            capture_output=True,
            text=True,
            env=env,
        )
        assert (verify.returncode, verify.stderr) == (0, ""), names
