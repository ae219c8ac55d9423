"""Multi-user fixtures: real Linux accounts (prefix `oqtotest_`), a control plane running
as an unprivileged service account, runners running as each user. Needs root (CI is)."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.multiuser.platform import (
    PREFIX,
    MultiUserPlatform,
    PlatformUser,
    make_skeleton,
    opencode_json_for,
    remove_account,
)
from tests.support.fake_llm import FakeLLM
from tests.support.server import REPO

from oqto.osutil.accounts import create_service_account


def _readable_by_others(path: Path) -> bool:
    return (
        subprocess.run(
            [
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "test",
                "-r",
                str(path),
            ],
            check=False,
        ).returncode
        == 0
    )


@pytest.fixture(scope="session")
def platform_root() -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("multi-user tests create Linux accounts and need root (CI runs as root)")
    if not _readable_by_others(REPO / "pyproject.toml"):
        pytest.fail(
            f"{REPO} is not readable by other accounts, so runners cannot run its venv; "
            "clone it somewhere world-readable (e.g. /srv, /opt or /work)",
            pytrace=False,
        )
    root = Path(tempfile.mkdtemp(prefix="oqto-mu-"))
    root.chmod(0o755)  # runner accounts read the config and the opencode config here
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def mu_llm() -> Iterator[FakeLLM]:
    with FakeLLM() as llm:
        yield llm


@pytest.fixture(scope="session")
def platform(platform_root: Path, mu_llm: FakeLLM) -> Iterator[MultiUserPlatform]:
    service = create_service_account(f"{PREFIX}svc{secrets.token_hex(2)}")
    mu = MultiUserPlatform(root=platform_root, service=service)
    mu.write_config(opencode_json_for(platform_root, mu_llm.base_url), make_skeleton(platform_root))
    try:
        mu.start()
        yield mu
    finally:
        mu.stop()
        for user in mu.users:
            if (runner := user.runner) is not None:
                runner.kill()
                runner.wait()
            remove_account(user.account)
        remove_account(service)


@pytest.fixture(scope="session")
def alice(platform: MultiUserPlatform) -> PlatformUser:
    return platform.add_user()


@pytest.fixture(scope="session")
def bob(platform: MultiUserPlatform) -> PlatformUser:
    return platform.add_user()
