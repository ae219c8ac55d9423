"""oqtoctl tests create real Linux accounts (prefix `oqtotest_`) and need root, as CI has."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.ctl.support import PREFIX, Install, remove_account

from oqto.osutil.accounts import create_service_account


@pytest.fixture(scope="session")
def service_account() -> Iterator[object]:
    if os.geteuid() != 0:
        pytest.skip("oqtoctl tests create Linux accounts and need root (CI runs as root)")
    account = create_service_account(f"{PREFIX}svc{secrets.token_hex(2)}")
    yield account
    remove_account(account.name)


@pytest.fixture
def install(service_account: object) -> Iterator[Install]:
    root = Path(tempfile.mkdtemp(prefix="oqto-ctl-"))
    root.chmod(0o755)  # runners (other accounts) read the config here
    inst = Install(root=root, service=service_account)  # type: ignore[arg-type]
    inst.data.mkdir(mode=0o750)
    os.chown(inst.data, inst.service.uid, inst.service.gid)
    inst.skeleton.mkdir()
    (inst.skeleton / ".profile-oqto").write_text("# from the skeleton\n")
    inst.write_config()
    try:
        yield inst
    finally:
        inst.cleanup()
        shutil.rmtree(root, ignore_errors=True)
