"""The seccomp filter, for real: a child process with it cannot inject terminal input; the
same code without it can (so these tests can fail)."""

from __future__ import annotations

import json
import platform
import signal
import subprocess
import sys

import pytest

from oqto.sandbox import seccomp

pytestmark = pytest.mark.skipif(
    platform.machine() not in ("x86_64", "aarch64"), reason="filter exists for x86_64/aarch64"
)

# In a new session, with a pty as controlling terminal (TIOCSTI needs no privilege then),
# try each request and report the errno and what arrived on the terminal's input.
INJECT = r"""
import ctypes, json, os, sys, termios, tty, fcntl
if sys.argv[1] == "filtered":
    from oqto.sandbox import seccomp
    seccomp.install()
os.setsid()
master, slave = os.openpty()
fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
tty.setraw(slave)
os.set_blocking(slave, False)
libc = ctypes.CDLL(None, use_errno=True)
out = {}
for name, request in json.loads(sys.argv[2]).items():
    ch = ctypes.c_char(b"x")
    rc = libc.ioctl(slave, ctypes.c_ulong(request), ctypes.byref(ch))
    err = ctypes.get_errno() if rc != 0 else 0
    try:
        got = os.read(slave, 16).decode()
    except BlockingIOError:
        got = ""
    out[name] = [err, got]
status = open("/proc/self/status").read()
out["no_new_privs"] = "NoNewPrivs:\t1" in status
print(json.dumps(out))
"""

REQUESTS = {
    "tiocsti": seccomp.TIOCSTI,
    "tiocsti_high_bits": seccomp.TIOCSTI | (1 << 32),
    "tioclinux": seccomp.TIOCLINUX,
}


def run_inject(mode: str) -> dict[str, list[object]]:
    done = subprocess.run(
        [sys.executable, "-c", INJECT, mode, json.dumps(REQUESTS)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    result: dict[str, list[object]] = json.loads(done.stdout)
    return result


def test_without_the_filter_tiocsti_injects() -> None:
    out = run_inject("bare")
    assert out["tiocsti"] == [0, "x"]
    # The kernel reads only the low 32 bits of the request: high bits do not help the filter.
    assert out["tiocsti_high_bits"] == [0, "x"]
    assert out["tioclinux"][0] != 1  # not a virtual console: EINVAL/ENOTTY, never EPERM


def test_with_the_filter_tiocsti_and_tioclinux_are_refused() -> None:
    out = run_inject("filtered")
    assert out["tiocsti"] == [1, ""]  # EPERM, nothing injected
    assert out["tiocsti_high_bits"] == [1, ""]
    assert out["tioclinux"] == [1, ""]
    assert out["no_new_privs"] is True


FOREIGN_ABI = r"""
import ctypes, sys
from oqto.sandbox import seccomp
if sys.argv[1] == "filtered":
    seccomp.install()
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall(0x40000000 + 39)  # getpid through the x32 ABI
print("survived")
"""


@pytest.mark.skipif(platform.machine() != "x86_64", reason="x32 exists on x86_64 only")
def test_another_abi_kills_the_process() -> None:
    bare = subprocess.run(
        [sys.executable, "-c", FOREIGN_ABI, "bare"], capture_output=True, text=True, timeout=30
    )
    assert bare.stdout.strip() == "survived"
    filtered = subprocess.run(
        [sys.executable, "-c", FOREIGN_ABI, "filtered"], capture_output=True, text=True, timeout=30
    )
    assert filtered.returncode == -signal.SIGSYS and "survived" not in filtered.stdout


def test_the_program_has_one_shape_per_machine() -> None:
    x86, arm = seccomp.program("x86_64"), seccomp.program("aarch64")
    assert len(x86) == 11 * 8 and len(arm) == 10 * 8  # x86_64 also checks for x32 numbers
    with pytest.raises(OSError, match="riscv64"):
        seccomp.program("riscv64")
