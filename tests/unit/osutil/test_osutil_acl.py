from __future__ import annotations

import errno
import os
import shutil
import socket
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.unit.osutil.osutil_support import AsUser

from oqto.osutil import acl
from oqto.osutil.accounts import LinuxAccount
from oqto.osutil.acl import AclEntry, AclTag
from oqto.osutil.runtime_dir import ensure_runtime_dir

U, G = AclTag.USER_OBJ, AclTag.GROUP_OBJ

# Bytes the kernel returned after `setfacl -m u:nobody:x` on a 0755 directory.
KERNEL_BYTES = bytes.fromhex(
    "0200000001000700ffffffff02000100feff000004000500ffffffff10000500ffffffff20000500ffffffff"
)
KERNEL_ENTRIES = [
    AclEntry(AclTag.USER_OBJ, None, 7),
    AclEntry(AclTag.USER, 65534, 1),
    AclEntry(AclTag.GROUP_OBJ, None, 5),
    AclEntry(AclTag.MASK, None, 5),
    AclEntry(AclTag.OTHER, None, 5),
]

needs_getfacl = pytest.mark.skipif(
    shutil.which("getfacl") is None or shutil.which("setfacl") is None,
    reason="acl package (getfacl/setfacl) not installed",
)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def named(path: Path) -> dict[int, str]:
    return {
        e.id: e.perms_text for e in acl.read_acl(path) if e.tag is AclTag.USER and e.id is not None
    }


@pytest.fixture
def private_dir(tmp_path: Path) -> Path:
    path = tmp_path / "private"
    path.mkdir()
    path.chmod(0o700)
    return path


# --- wire format -----------------------------------------------------------------


def test_decode_kernel_bytes() -> None:
    assert acl.decode_acl(KERNEL_BYTES) == KERNEL_ENTRIES


def test_encode_matches_kernel_bytes_regardless_of_input_order() -> None:
    assert acl.encode_acl(list(reversed(KERNEL_ENTRIES))) == KERNEL_BYTES


def test_encode_sorts_named_entries_by_id() -> None:
    entries = [
        AclEntry(AclTag.OTHER, None, 0),
        AclEntry(AclTag.USER, 3000, 1),
        AclEntry(AclTag.USER, 20, 6),
        AclEntry(AclTag.USER_OBJ, None, 7),
    ]
    decoded = acl.decode_acl(acl.encode_acl(entries))
    assert [(e.tag, e.id) for e in decoded] == [
        (AclTag.USER_OBJ, None),
        (AclTag.USER, 20),
        (AclTag.USER, 3000),
        (AclTag.OTHER, None),
    ]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x02\x00\x00",
        KERNEL_BYTES[:-1],
        b"\x01\x00\x00\x00",  # wrong version
        b"\x02\x00\x00\x00" + b"\x40\x00\x07\x00\xff\xff\xff\xff",  # unknown tag
    ],
)
def test_decode_rejects_malformed(data: bytes) -> None:
    with pytest.raises(ValueError):
        acl.decode_acl(data)


@pytest.mark.parametrize(
    ("text", "bits"),
    [("", 0), ("-", 0), ("x", 1), ("rw", 6), ("wr", 6), ("r-x", 5), ("rwx", 7)],
)
def test_parse_perms(text: str, bits: int) -> None:
    assert acl.parse_perms(text) == bits


@pytest.mark.parametrize("text", ["a", "rwxs", "R", "7"])
def test_parse_perms_rejects_junk(text: str) -> None:
    with pytest.raises(ValueError):
        acl.parse_perms(text)


def test_format_perms() -> None:
    assert [acl.format_perms(b) for b in (0, 1, 6, 7)] == ["---", "--x", "rw-", "rwx"]


@pytest.mark.parametrize(
    ("tag", "entry_id", "perms"),
    [
        (AclTag.USER, None, 1),
        (AclTag.GROUP, acl.ACL_UNDEFINED_ID, 1),
        (AclTag.USER_OBJ, 5, 7),
        (AclTag.OTHER, None, 8),
    ],
)
def test_entry_validation(tag: AclTag, entry_id: int | None, perms: int) -> None:
    with pytest.raises(ValueError):
        AclEntry(tag, entry_id, perms)


def test_entry_str_matches_getfacl_numeric() -> None:
    assert [str(e) for e in KERNEL_ENTRIES] == [
        "user::rwx",
        "user:65534:--x",
        "group::r-x",
        "mask::r-x",
        "other::r-x",
    ]


# --- on a real filesystem (owner of tmp_path; no root needed) --------------------


def test_read_without_xattr_synthesizes_from_mode(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.touch()
    path.chmod(0o640)
    assert acl.read_acl(path) == [
        AclEntry(U, None, 6),
        AclEntry(G, None, 4),
        AclEntry(AclTag.OTHER, None, 0),
    ]
    assert not acl.has_extended_acl(path)


def test_grant_on_0700_dir_sets_mask_and_shows_as_0710(private_dir: Path) -> None:
    acl.grant_user(private_dir, 4242, "x")

    assert acl.read_acl(private_dir) == [
        AclEntry(U, None, 7),
        AclEntry(AclTag.USER, 4242, 1),
        AclEntry(G, None, 0),  # owning group still has nothing
        AclEntry(AclTag.MASK, None, 1),
        AclEntry(AclTag.OTHER, None, 0),
    ]
    assert mode(private_dir) == 0o710  # group bits now show the mask
    assert acl.has_extended_acl(private_dir)


def test_grant_replaces_existing_entry_and_mask_tracks_union(private_dir: Path) -> None:
    acl.grant_user(private_dir, 4242, "rwx")
    acl.grant_user(private_dir, 4343, "x")
    acl.grant_user(private_dir, 4242, "x")

    assert named(private_dir) == {4242: "--x", 4343: "--x"}
    assert mode(private_dir) == 0o710


def test_revoke_last_entry_restores_plain_mode(private_dir: Path) -> None:
    acl.grant_user(private_dir, 4242, "x")
    acl.grant_user(private_dir, 4343, "rw")
    acl.revoke_user(private_dir, 4343)
    assert named(private_dir) == {4242: "--x"}
    assert mode(private_dir) == 0o710

    acl.revoke_user(private_dir, 4242)

    assert mode(private_dir) == 0o700
    # The kernel turned the minimal ACL back into plain mode bits.
    assert acl.XATTR_ACCESS not in os.listxattr(private_dir)
    assert not acl.has_extended_acl(private_dir)


def test_revoke_absent_is_a_noop(private_dir: Path) -> None:
    acl.revoke_user(private_dir, 4242)
    assert mode(private_dir) == 0o700
    assert acl.XATTR_ACCESS not in os.listxattr(private_dir)


def test_grant_keeps_group_obj_perms_from_mode(tmp_path: Path) -> None:
    path = tmp_path / "shared"
    path.mkdir()
    path.chmod(0o750)

    acl.grant_user(path, 4242, "x")

    entries = {(e.tag, e.id): e.perms_text for e in acl.read_acl(path)}
    assert entries[(G, None)] == "r-x"
    assert entries[(AclTag.MASK, None)] == "r-x"
    assert mode(path) == 0o750


def test_grant_never_widens_others_through_a_narrowed_mask(tmp_path: Path) -> None:
    path = tmp_path / "shared"
    path.mkdir()
    path.chmod(0o750)
    acl.grant_user(path, 4242, "rx")
    path.chmod(0o700)  # mask := --- ; group and 4242 now effectively have nothing

    acl.grant_user(path, 4343, "x")

    entries = {(e.tag, e.id): e.perms_text for e in acl.read_acl(path)}
    # setfacl -m would recompute the mask as r-x and re-open the group and 4242.
    assert entries[(G, None)] == "---"
    assert entries[(AclTag.USER, 4242)] == "---"
    assert entries[(AclTag.USER, 4343)] == "--x"
    assert entries[(AclTag.MASK, None)] == "--x"


def test_grant_on_unix_socket(tmp_path: Path) -> None:
    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        path.chmod(0o600)
        acl.grant_user(path, 4242, "rw")
        assert named(path) == {4242: "rw-"}
        assert mode(path) == 0o660


def test_symlink_is_refused(private_dir: Path, tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(private_dir)
    with pytest.raises(OSError) as info:
        acl.grant_user(link, 4242, "x")
    assert info.value.errno == errno.ELOOP
    assert mode(private_dir) == 0o700


def test_invalid_uid_and_perms_are_rejected(private_dir: Path) -> None:
    with pytest.raises(ValueError):
        acl.grant_user(private_dir, -1, "x")
    with pytest.raises(ValueError):
        acl.grant_user(private_dir, acl.ACL_UNDEFINED_ID, "x")
    with pytest.raises(ValueError):
        acl.grant_user(private_dir, 4242, "rwq")
    assert mode(private_dir) == 0o700


def test_unsupported_filesystem_on_read() -> None:
    # procfs answers EOPNOTSUPP for ACL xattrs.
    with pytest.raises(acl.AclUnsupported) as info:
        acl.grant_user(Path("/proc/self/status"), 4242, "r")
    assert info.value.errno == errno.EOPNOTSUPP
    assert not acl.has_extended_acl(Path("/proc/self/status"))


def test_unsupported_filesystem_on_write(
    private_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EOPNOTSUPP, "Operation not supported")

    monkeypatch.setattr(os, "setxattr", refuse)
    with pytest.raises(acl.AclUnsupported, match="does not support POSIX ACLs"):
        acl.grant_user(private_dir, 4242, "x")


def test_acls_work_on_tmpfs(tmpfs_dir: Path) -> None:
    path = tmpfs_dir / "d"
    path.mkdir(mode=0o700)
    acl.grant_user(path, 4242, "x")
    assert named(path) == {4242: "--x"}
    assert mode(path) == 0o710
    acl.revoke_user(path, 4242)
    assert mode(path) == 0o700


# --- cross-check with the acl package's tools --------------------------------------


def getfacl(path: Path) -> list[str]:
    out = subprocess.run(
        ["getfacl", "--omit-header", "--numeric", "--no-effective", "--absolute-names", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line for line in out.splitlines() if line]


@needs_getfacl
def test_getfacl_reads_what_we_write(private_dir: Path) -> None:
    acl.grant_user(private_dir, 4242, "x")
    acl.grant_user(private_dir, 77, "rw")
    assert getfacl(private_dir) == [
        "user::rwx",
        "user:77:rw-",
        "user:4242:--x",
        "group::---",
        "mask::rwx",
        "other::---",
    ]


@needs_getfacl
def test_we_read_what_setfacl_writes(private_dir: Path) -> None:
    subprocess.run(
        ["setfacl", "-m", "u:4242:rx,g:555:r,u:12:w", str(private_dir)],
        check=True,
    )
    entries = acl.read_acl(private_dir)
    assert [str(e) for e in entries] == getfacl(private_dir)
    assert AclEntry(AclTag.GROUP, 555, 4) in entries
    # Re-encoding what we decoded yields exactly the kernel's bytes.
    raw = os.getxattr(private_dir, acl.XATTR_ACCESS)
    assert acl.encode_acl(entries) == raw


@needs_getfacl
def test_revoke_after_setfacl_keeps_named_group(private_dir: Path) -> None:
    subprocess.run(["setfacl", "-m", "u:4242:rx,g:555:r", str(private_dir)], check=True)
    acl.revoke_user(private_dir, 4242)
    assert getfacl(private_dir) == [
        "user::rwx",
        "group::---",
        "group:555:r--",
        "mask::r--",
        "other::---",
    ]


# --- the real requirement: only the granted account can connect -------------------

GRANT = """
import sys
from pathlib import Path
from oqto.osutil.acl import grant_user
uid = int(sys.argv[1])
for spec in sys.argv[2:]:
    path, perms = spec.rsplit("=", 1)
    grant_user(Path(path), uid, perms)
"""

REVOKE = """
import sys
from pathlib import Path
from oqto.osutil.acl import revoke_user
uid = int(sys.argv[1])
for path in sys.argv[2:]:
    revoke_user(Path(path), uid)
"""

TRY_GRANT = """
import sys
from pathlib import Path
from oqto.osutil.acl import grant_user
try:
    grant_user(Path(sys.argv[1]), int(sys.argv[2]), "rwx")
except OSError as e:
    print(f"err:{e.errno}")
else:
    print("ok")
"""


@pytest.fixture(params=["disk", "tmpfs"])
def runtime_base(request: pytest.FixtureRequest) -> Path:
    # logind puts /run/user/<uid> on tmpfs; here /run is on the root fs. Try both.
    fixture = "public_dir" if request.param == "disk" else "tmpfs_dir"
    base: Path = request.getfixturevalue(fixture)
    return base / "user"


@pytest.fixture
def listening_socket(
    runtime_base: Path, make_account: Callable[[], LinuxAccount]
) -> Iterator[tuple[LinuxAccount, Path]]:
    """A runner-like layout: <base>/<uid>/oqto/sess/files.sock, all owner-only."""
    owner = make_account()
    runtime = ensure_runtime_dir(owner.uid, owner.gid, base=runtime_base)
    session = runtime / "oqto" / "sess"
    for path in (runtime / "oqto", session):
        path.mkdir(mode=0o700)
        os.chown(path, owner.uid, owner.gid)
    sock_path = session / "files.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        os.chown(sock_path, owner.uid, owner.gid)
        sock_path.chmod(0o600)
        sock.listen(16)
        yield owner, sock_path


def test_acl_grant_lets_only_the_service_account_connect(
    listening_socket: tuple[LinuxAccount, Path],
    make_account: Callable[[], LinuxAccount],
    as_user: AsUser,
) -> None:
    owner, sock_path = listening_socket
    service, stranger = make_account(), make_account()
    session = sock_path.parent
    dirs = [session.parent.parent, session.parent, session]
    eacces = f"err:{errno.EACCES}"

    assert as_user.connect(owner, sock_path) == "ok"
    assert as_user.connect(service, sock_path) == eacces

    # The owner (not root) sets the ACLs, as the runner will.
    as_user.run(owner, GRANT, str(service.uid), *(f"{d}=x" for d in dirs), f"{sock_path}=rw")

    assert as_user.connect(service, sock_path) == "ok"
    assert as_user.connect(stranger, sock_path) == eacces
    assert mode(dirs[0]) == 0o710
    assert named(sock_path) == {service.uid: "rw-"}
    # Nobody but the owner may change the ACL.
    assert as_user.run(stranger, TRY_GRANT, str(dirs[0]), str(stranger.uid)) == (
        f"err:{errno.EPERM}"
    )

    # Traversal alone is not enough: the socket's own ACL is needed too.
    as_user.run(owner, REVOKE, str(service.uid), str(sock_path))
    assert as_user.connect(service, sock_path) == eacces

    as_user.run(owner, REVOKE, str(service.uid), *map(str, dirs))
    assert as_user.connect(service, sock_path) == eacces
    assert as_user.connect(owner, sock_path) == "ok"
    assert [mode(d) for d in dirs] == [0o700, 0o700, 0o700]
