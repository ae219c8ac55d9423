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
    assert len(x86) == 17 * 8 and len(arm) == 16 * 8  # x86_64 also checks for x32 numbers
    with pytest.raises(OSError, match="riscv64"):
        seccomp.program("riscv64")


# A new user namespace three ways: unshare(2), a raw clone(2) with CLONE_NEWUSER, and
# what libc does for a thread or a child (clone3, else clone).
NEW_USERNS = r"""
import ctypes, json, os, sys
if sys.argv[1] == "filtered":
    from oqto.sandbox import seccomp
    seccomp.install()
libc = ctypes.CDLL(None, use_errno=True)
out = {}
pid = os.fork()  # unshare in a child: the parent stays in our namespace
if pid == 0:
    rc = libc.unshare(0x10000000)  # CLONE_NEWUSER
    os._exit(0 if rc == 0 else ctypes.get_errno())
out["unshare"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
clone3 = {"x86_64": 435, "aarch64": 435}[os.uname().machine]
args = (ctypes.c_uint64 * 11)()
args[0] = 0x10000000  # CLONE_NEWUSER
args[4] = 17  # exit_signal = SIGCHLD, so the parent can wait for it
rc = libc.syscall(clone3, ctypes.byref(args), ctypes.sizeof(args))
out["clone3"] = 0 if rc >= 0 else ctypes.get_errno()
if rc == 0:
    os._exit(0)
if rc > 0:
    os.waitpid(rc, 0)
pid = os.fork()  # a plain fork still works
if pid == 0:
    os._exit(7)
out["fork"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
print(json.dumps(out))
"""


def test_no_new_user_namespace_under_the_filter() -> None:
    import errno

    def run(mode: str) -> dict[str, int]:
        done = subprocess.run(
            [sys.executable, "-c", NEW_USERNS, mode], capture_output=True, text=True, timeout=30
        )
        assert done.returncode == 0, done.stderr
        result: dict[str, int] = json.loads(done.stdout)
        return result

    assert run("plain") == {"unshare": 0, "clone3": 0, "fork": 7}  # so the test can fail
    assert run("filtered") == {"unshare": errno.EPERM, "clone3": errno.ENOSYS, "fork": 7}
