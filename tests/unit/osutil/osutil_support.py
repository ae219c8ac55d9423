"""Helpers shared by the osutil tests (imported by conftest and the tests)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from oqto.osutil.accounts import LinuxAccount

PREFIX = "oqtotest_"


def require_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root (CI runs these as root)")


def _world_executable(path: Path) -> bool:
    return all(os.stat(part).st_mode & stat.S_IXOTH for part in [path, *path.parents])


def _child_python() -> str:
    # The venv's interpreter may live under /root (0700), unusable by test accounts.
    for candidate in (Path(sys.executable).resolve(), Path("/usr/bin/python3")):
        if candidate.exists() and _world_executable(candidate):
            return str(candidate)
    pytest.fail("no Python interpreter that other accounts can execute")


# Prints "ok" or "err:<errno>" for a connect() to the socket path in argv[1].
_CONNECT = """
import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print(f"err:{e.errno}")
else:
    print("ok")
"""


@dataclass(frozen=True)
class AsUser:
    """Runs Python snippets as a given account via setpriv (no PAM, no shell)."""

    pythonpath: Path

    def argv(self, account: LinuxAccount, code: str, *args: str) -> list[str]:
        return [
            "setpriv",
            f"--reuid={account.uid}",
            f"--regid={account.gid}",
            "--clear-groups",
            _child_python(),
            "-c",
            code,
            *args,
        ]

    def env(self) -> dict[str, str]:
        # A minimal, explicit environment: nothing of ours leaks into the child.
        return {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(self.pythonpath)}

    def run(self, account: LinuxAccount, code: str, *args: str) -> str:
        result = subprocess.run(
            self.argv(account, code, *args),
            capture_output=True,
            text=True,
            timeout=60,
            cwd="/",
            env=self.env(),
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def popen(self, account: LinuxAccount, code: str, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.argv(account, code, *args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd="/",
            env=self.env(),
        )

    def connect(self, account: LinuxAccount, socket_path: Path) -> str:
        """Try connect() as ``account``: "ok" or "err:<errno>"."""
        return self.run(account, _CONNECT, str(socket_path))
