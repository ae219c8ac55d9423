"""The real-systemd test needs root, debootstrap and systemd-nspawn (scripts/setup.sh
--test installs them). It can be switched off locally with OQTO_SKIP_SYSTEMD_TEST=1, which
is reported as a skip; in CI (CI=true) it always runs."""

from __future__ import annotations

import os
import shutil

import pytest


def require_systemd_test_tools() -> None:
    if os.environ.get("OQTO_SKIP_SYSTEMD_TEST") == "1":
        if os.environ.get("CI"):
            pytest.fail("OQTO_SKIP_SYSTEMD_TEST=1 is not allowed in CI", pytrace=False)
        pytest.skip("real-systemd test disabled by OQTO_SKIP_SYSTEMD_TEST=1")
    if os.geteuid() != 0:
        pytest.skip("the real-systemd test boots a container and needs root (CI runs as root)")
    missing = [t for t in ("debootstrap", "systemd-nspawn", "nsenter") if not shutil.which(t)]
    if missing:
        pytest.fail(
            f"missing {', '.join(missing)}: run scripts/setup.sh --test (it installs "
            "debootstrap and systemd-container)",
            pytrace=False,
        )
