"""Fixtures for the osutil tests: throw-away Linux accounts, world-traversable
scratch dirs and running code as another account.

Tests needing root skip only when not root; CI runs them as root.
Every account is named ``oqtotest_<random>`` and removed in teardown even if
the test failed; a session-level check fails loudly if any is left behind.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.unit.osutil.osutil_support import PREFIX, AsUser, require_root

from oqto.osutil.accounts import LinuxAccount, create_account

SRC = Path(__file__).resolve().parents[3] / "src"


@pytest.fixture
def needs_root() -> None:
    require_root()


def _leftovers() -> list[str]:
    found = []
    for db in ("passwd", "group"):
        out = subprocess.run(["getent", db], capture_output=True, text=True, check=True).stdout
        found += [f"{db}: {line}" for line in out.splitlines() if line.startswith(PREFIX)]
    return found


@pytest.fixture(scope="session", autouse=True)
def _no_leftover_accounts() -> Iterator[None]:
    before = set(_leftovers())
    yield
    left = set(_leftovers()) - before
    assert not left, f"tests left accounts behind: {sorted(left)}"


def _remove_account(name: str, home: Path | None) -> None:
    subprocess.run(["userdel", "--remove", name], capture_output=True, check=False)
    # userdel normally drops the user-private group; make sure, e.g. after a
    # test that created the user by hand.
    if subprocess.run(["getent", "group", name], capture_output=True).returncode == 0:
        subprocess.run(["groupdel", name], capture_output=True, check=False)
    if home is not None and home.name.startswith(PREFIX) and home.exists():
        shutil.rmtree(home)


@pytest.fixture
def account_names() -> Iterator[Callable[[], str]]:
    """Hands out fresh ``oqtotest_`` names and deletes those accounts afterwards."""
    names: list[str] = []

    def new_name() -> str:
        name = PREFIX + secrets.token_hex(4)
        names.append(name)
        return name

    yield new_name
    for name in names:
        _remove_account(name, Path("/home") / name)


@pytest.fixture
def make_account(account_names: Callable[[], str]) -> Callable[[], LinuxAccount]:
    require_root()

    def make() -> LinuxAccount:
        return create_account(account_names())

    return make


@pytest.fixture
def public_dir() -> Iterator[Path]:
    """A 0755 root-owned scratch dir other accounts can traverse (tmp_path cannot be)."""
    path = Path(tempfile.mkdtemp(prefix="oqto-osutil-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def tmpfs_dir(public_dir: Path) -> Iterator[Path]:
    """A freshly mounted small tmpfs (the filesystem logind puts /run/user/<uid> on)."""
    require_root()
    mnt = public_dir / "tmpfs"
    mnt.mkdir(mode=0o755)
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "oqto-test", str(mnt)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount tmpfs here: {result.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


@pytest.fixture
def child_pythonpath(public_dir: Path) -> Path:
    """A copy of the oqto.osutil sources that test accounts can import.

    The checkout itself may sit below a directory they cannot traverse.
    """
    dest = public_dir / "pylib" / "oqto"
    shutil.copytree(
        SRC / "oqto" / "osutil", dest / "osutil", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(SRC / "oqto" / "__init__.py", dest / "__init__.py")
    for path in [dest.parent, *dest.parent.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return dest.parent


@pytest.fixture
def as_user(child_pythonpath: Path) -> AsUser:
    require_root()
    return AsUser(child_pythonpath)
