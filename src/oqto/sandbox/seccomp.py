"""A seccomp filter that refuses terminal input injection, installed by the in-sandbox init.

ioctl(fd, TIOCSTI) pushes bytes into a terminal's input queue, and ioctl(fd, TIOCLINUX)
can paste a virtual console's selection: either lets a sandboxed process type commands
into a terminal outside the sandbox that shares its tty. Both fail with EPERM. Only the
low 32 bits of the request are compared, because that is all the kernel reads (a request
with high bits set would otherwise slip past). A system call made through another ABI
(i386 or x32 on x86_64, arm32 on aarch64) has other numbers and would bypass the rule,
so it kills the process. New user namespaces are refused too (`unshare` and `clone`
with CLONE_NEWUSER: EPERM; `clone3`, whose flags a filter cannot see: ENOSYS, so libc
falls back to `clone`): a user namespace of its own would give a sandboxed process
capabilities over new namespaces, and the kernel's attack surface with them. bubblewrap's
`--disable-userns` does the same where /proc/sys is writable, which it is not inside
many containers. Everything else is allowed.

A classic BPF program, packed by hand (no libseccomp binding), in the init's process so
it is inherited by everything the service runs; no_new_privs first, as the kernel
requires of an unprivileged caller.
"""

from __future__ import annotations

import ctypes
import errno
import os
import struct

TIOCSTI = 0x5412
TIOCLINUX = 0x541C

# <linux/filter.h>, <linux/seccomp.h>
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_RET_K = 0x06
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_RET_KILL_PROCESS = 0x80000000
# struct seccomp_data: int nr; u32 arch; u64 instruction_pointer; u64 args[6] (little endian)
_NR, _ARCH, _ARG0_LOW, _ARG1_LOW = 0, 4, 16, 24

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2


# Machine: (AUDIT_ARCH_*, the numbers of ioctl, unshare, clone and clone3, the first
# number of another ABI under the same arch (x32) or None). Tuples, not a dataclass: the
# init imports this, and dataclasses cost it more start-up than the rest.
_ABIS: dict[str, tuple[int, int, int, int, int, int | None]] = {
    "x86_64": (0xC000003E, 16, 272, 56, 435, 0x40000000),
    "aarch64": (0xC00000B7, 29, 97, 220, 435, None),
}
CLONE_NEWUSER = 0x10000000
_JSET_K = 0x45


def program(machine: str | None = None) -> bytes:
    """The filter for this machine (or `machine`, as `uname -m` names it)."""
    name = machine or os.uname().machine
    if name not in _ABIS:
        raise OSError(errno.ENOTSUP, f"no seccomp filter for {name} (only {', '.join(_ABIS)})")
    audit_arch, ioctl, unshare, clone, clone3, foreign_nr = _ABIS[name]
    # (code, k, jump if true, jump if false): a jump names a later step's label or one of
    # the returns below; None is the next step.
    Step = tuple[int, int, str | None, str | None]
    steps: list[Step] = [
        (_LD_W_ABS, _ARCH, None, None),
        (_JEQ_K, audit_arch, None, "kill"),
        (_LD_W_ABS, _NR, None, None),
    ]
    if foreign_nr is not None:
        steps.append((_JGE_K, foreign_nr, "kill", None))
    steps += [
        (_JEQ_K, ioctl, "ioctl", None),
        (_JEQ_K, unshare, "flags", None),
        (_JEQ_K, clone, "flags", None),
        # clone3 passes its flags in memory, which a filter cannot read: ENOSYS makes
        # libc fall back to clone, whose flags it can.
        (_JEQ_K, clone3, "enosys", "allow"),
    ]
    labels = {"ioctl": len(steps)}
    steps += [
        (_LD_W_ABS, _ARG1_LOW, None, None),
        (_JEQ_K, TIOCSTI, "eperm", None),
        (_JEQ_K, TIOCLINUX, "eperm", "allow"),
    ]
    labels["flags"] = len(steps)
    steps += [
        (_LD_W_ABS, _ARG0_LOW, None, None),
        (_JSET_K, CLONE_NEWUSER, "eperm", "allow"),
    ]
    returns = {
        "allow": _RET_ALLOW,
        "eperm": _RET_ERRNO | errno.EPERM,
        "enosys": _RET_ERRNO | errno.ENOSYS,
        "kill": _RET_KILL_PROCESS,
    }
    labels |= {label: len(steps) + i for i, label in enumerate(returns)}

    def offset(i: int, label: str | None) -> int:  # counted from the next instruction
        return 0 if label is None else labels[label] - i - 1

    code = [
        struct.pack("=HBBI", op, offset(i, t), offset(i, f), k)
        for i, (op, k, t, f) in enumerate(steps)
    ]
    code += [struct.pack("=HBBI", _RET_K, 0, 0, k) for k in returns.values()]
    return b"".join(code)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install() -> None:
    """Set no_new_privs and load the filter into this process (and all it will start)."""
    code = program()
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(code, len(code))
    prog = _SockFprog(len(code) // 8, ctypes.cast(buf, ctypes.c_void_p))
    for args in (
        (_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0),
        (_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.addressof(prog), 0, 0),
    ):
        if libc.prctl(*(ctypes.c_ulong(a) for a in args)) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"prctl({args[0]}): {errno.errorcode.get(err, err)}")
