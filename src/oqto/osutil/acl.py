"""POSIX access ACLs, read and written as the raw ``system.posix_acl_access`` xattr.

The runner (running as the platform user, who owns its runtime directory and
sockets) uses :func:`grant_user` to let the service account traverse
``/run/user/<uid>`` and connect to the sockets inside it, while the plain mode
bits (0700 / 0600) keep every other account out. Writing the xattr ourselves
avoids a runtime dependency on the ``acl`` package's ``setfacl`` binary.

Wire format (Linux ``struct posix_acl_xattr_header`` + entries), little endian::

    u32 version (= 2)
    repeated: u16 tag, u16 perm, u32 id

Entries must be sorted by tag, then by id, or the kernel answers ``EINVAL``.

Mode interaction, which surprises people: once an ACL has named entries it
must carry an ``ACL_MASK`` entry, and the kernel then reports the *mask* in the
group bits of ``st_mode``. Granting ``x`` to one user on a 0700 directory
therefore shows it as 0710 (``drwx--x---+`` in ``ls -l``) even though the
owning group still has no access (its ``ACL_GROUP_OBJ`` entry stays ``---``).
Conversely a later ``chmod 700`` sets the mask to ``---`` and so silently
disables every named entry.

Unlike ``setfacl -m``, :func:`grant_user` and :func:`revoke_user` never widen
anybody else's *effective* access: when an existing mask was narrower than
some group-class entry, that entry is first clamped to what the old mask
allowed, and only then is the mask recomputed. Changing one uid's entry thus
changes exactly that uid's access.
"""

from __future__ import annotations

import errno
import os
import stat
import struct
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

__all__ = [
    "ACL_UNDEFINED_ID",
    "XATTR_ACCESS",
    "AclEntry",
    "AclTag",
    "AclUnsupported",
    "decode_acl",
    "encode_acl",
    "format_perms",
    "grant_user",
    "has_extended_acl",
    "parse_perms",
    "read_acl",
    "revoke_user",
    "write_acl",
]

XATTR_ACCESS = "system.posix_acl_access"
ACL_UNDEFINED_ID = 0xFFFFFFFF
_VERSION = 2
_HEADER = struct.Struct("<I")
_ENTRY = struct.Struct("<HHI")

_R, _W, _X = 4, 2, 1
_PERM_BITS = {"r": _R, "w": _W, "x": _X}


class AclTag(IntEnum):
    """Entry tags; the numeric order is also the order the kernel requires."""

    USER_OBJ = 0x01
    USER = 0x02
    GROUP_OBJ = 0x04
    GROUP = 0x08
    MASK = 0x10
    OTHER = 0x20


_NAMED_TAGS = frozenset({AclTag.USER, AclTag.GROUP})
# Entries whose effective permissions are limited by the mask.
_GROUP_CLASS = frozenset({AclTag.USER, AclTag.GROUP_OBJ, AclTag.GROUP})


class AclUnsupported(OSError):
    """The filesystem holding the path does not support POSIX ACLs (EOPNOTSUPP)."""


@dataclass(frozen=True)
class AclEntry:
    """One ACL entry. ``id`` is the uid/gid for USER/GROUP entries, else None."""

    tag: AclTag
    id: int | None
    perms: int

    def __post_init__(self) -> None:
        if not 0 <= self.perms <= 7:
            raise ValueError(f"ACL perms must be within 0..7, got {self.perms}")
        if self.tag in _NAMED_TAGS:
            if self.id is None or not 0 <= self.id < ACL_UNDEFINED_ID:
                raise ValueError(f"{self.tag.name} entry needs a valid id, got {self.id}")
        elif self.id is not None:
            raise ValueError(f"{self.tag.name} entry must not carry an id")

    @property
    def perms_text(self) -> str:
        return format_perms(self.perms)

    def __str__(self) -> str:
        # Same shape as getfacl's numeric output (``getfacl -n``), minus mask/effective notes.
        kind = {
            AclTag.USER_OBJ: "user",
            AclTag.USER: "user",
            AclTag.GROUP_OBJ: "group",
            AclTag.GROUP: "group",
            AclTag.MASK: "mask",
            AclTag.OTHER: "other",
        }[self.tag]
        qualifier = "" if self.id is None else str(self.id)
        return f"{kind}:{qualifier}:{self.perms_text}"


def parse_perms(text: str) -> int:
    """Turn ``"rw"``, ``"x"``, ``"r-x"`` or ``""`` into a 3-bit permission value."""
    bits = 0
    for char in text:
        if char == "-":
            continue
        if char not in _PERM_BITS:
            raise ValueError(f"invalid ACL permission {char!r} in {text!r}; use r, w, x or -")
        bits |= _PERM_BITS[char]
    return bits


def format_perms(bits: int) -> str:
    return "".join(c if bits & b else "-" for c, b in _PERM_BITS.items())


def _sort_key(entry: AclEntry) -> tuple[int, int]:
    return (int(entry.tag), ACL_UNDEFINED_ID if entry.id is None else entry.id)


def encode_acl(entries: list[AclEntry]) -> bytes:
    """Serialize entries (sorted here, as the kernel requires) to the xattr format."""
    parts = [_HEADER.pack(_VERSION)]
    for entry in sorted(entries, key=_sort_key):
        entry_id = ACL_UNDEFINED_ID if entry.id is None else entry.id
        parts.append(_ENTRY.pack(int(entry.tag), entry.perms, entry_id))
    return b"".join(parts)


def decode_acl(data: bytes) -> list[AclEntry]:
    """Parse the xattr format; raises ValueError on anything malformed."""
    if len(data) < _HEADER.size or (len(data) - _HEADER.size) % _ENTRY.size:
        raise ValueError(f"malformed POSIX ACL xattr of {len(data)} bytes")
    (version,) = _HEADER.unpack_from(data)
    if version != _VERSION:
        raise ValueError(f"unsupported POSIX ACL xattr version {version}")
    entries = []
    for tag, perms, entry_id in _ENTRY.iter_unpack(data[_HEADER.size :]):
        try:
            acl_tag = AclTag(tag)
        except ValueError:
            raise ValueError(f"unknown POSIX ACL tag {tag:#x}") from None
        named_id = entry_id if acl_tag in _NAMED_TAGS else None
        entries.append(AclEntry(acl_tag, named_id, perms & 7))
    return entries


def _minimal_from_mode(mode: int) -> list[AclEntry]:
    # Without an xattr the mode bits *are* the ACL (the "minimal ACL").
    return [
        AclEntry(AclTag.USER_OBJ, None, (mode >> 6) & 7),
        AclEntry(AclTag.GROUP_OBJ, None, (mode >> 3) & 7),
        AclEntry(AclTag.OTHER, None, mode & 7),
    ]


def _unsupported(path: Path, exc: OSError) -> AclUnsupported:
    return AclUnsupported(
        errno.EOPNOTSUPP,
        f"filesystem does not support POSIX ACLs ({exc.strerror})",
        str(path),
    )


def _refuse_symlink(path: Path) -> os.stat_result:
    # The *_xattr calls below never follow a final symlink either, so a link
    # swapped in after this check makes them fail instead of touching the target.
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        raise OSError(errno.ELOOP, "refusing to handle the ACL of a symlink", str(path))
    return st


def read_acl(path: Path) -> list[AclEntry]:
    """Return the access ACL of ``path`` (synthesized from the mode if it has none)."""
    st = _refuse_symlink(path)
    try:
        data = os.getxattr(path, XATTR_ACCESS, follow_symlinks=False)
    except OSError as exc:
        if exc.errno == errno.ENODATA:
            return _minimal_from_mode(st.st_mode)
        if exc.errno == errno.EOPNOTSUPP:
            raise _unsupported(path, exc) from exc
        raise
    return sorted(decode_acl(data), key=_sort_key)


def write_acl(path: Path, entries: list[AclEntry]) -> None:
    """Replace the access ACL of ``path``.

    Writing a minimal (3-entry) ACL makes the kernel drop the xattr and just
    set the mode bits, so no empty ACL lingers.
    """
    _refuse_symlink(path)
    try:
        os.setxattr(path, XATTR_ACCESS, encode_acl(entries), 0, follow_symlinks=False)
    except OSError as exc:
        if exc.errno == errno.EOPNOTSUPP:
            raise _unsupported(path, exc) from exc
        raise


def has_extended_acl(path: Path) -> bool:
    """True if ``path`` carries more than the mode-equivalent minimal ACL."""
    try:
        return any(entry.tag is AclTag.MASK for entry in read_acl(path))
    except AclUnsupported:
        return False


def _clamp_to_mask(entries: list[AclEntry]) -> list[AclEntry]:
    """Bake the current mask into group-class entries and drop the mask.

    Afterwards each entry's stored perms equal its current effective perms, so
    recomputing the mask as their union cannot widen anybody's access.
    """
    mask = next((e.perms for e in entries if e.tag is AclTag.MASK), None)
    if mask is None:
        return list(entries)
    return [
        AclEntry(e.tag, e.id, e.perms & mask) if e.tag in _GROUP_CLASS else e
        for e in entries
        if e.tag is not AclTag.MASK
    ]


def _with_mask(entries: list[AclEntry]) -> list[AclEntry]:
    """Add the mask named entries require; omit it when there are none."""
    if not any(e.tag in _NAMED_TAGS for e in entries):
        return entries
    mask = 0
    for entry in entries:
        if entry.tag in _GROUP_CLASS:
            mask |= entry.perms
    return [*entries, AclEntry(AclTag.MASK, None, mask)]


def _check_uid(uid: int) -> None:
    if not 0 <= uid < ACL_UNDEFINED_ID:
        raise ValueError(f"invalid uid {uid}")


def grant_user(path: Path, uid: int, perms: str) -> None:
    """Give ``uid`` exactly ``perms`` (e.g. ``"x"``, ``"rw"``) on ``path`` via a named entry.

    Replaces any existing entry for ``uid``. Only the owner (or root) may call
    this successfully. The mode's group bits become the mask afterwards (see
    the module docstring): a 0700 directory granted ``x`` reads as 0710.
    """
    _check_uid(uid)
    bits = parse_perms(perms)
    entries = [
        e for e in _clamp_to_mask(read_acl(path)) if not (e.tag is AclTag.USER and e.id == uid)
    ]
    entries.append(AclEntry(AclTag.USER, uid, bits))
    write_acl(path, _with_mask(entries))


def revoke_user(path: Path, uid: int) -> None:
    """Remove the named entry for ``uid``, if any.

    When no named entries remain the ACL collapses back to the mode bits, so a
    directory granted and then revoked reads as 0700 again.
    """
    _check_uid(uid)
    current = read_acl(path)
    if not any(e.tag is AclTag.USER and e.id == uid for e in current):
        return
    entries = [e for e in _clamp_to_mask(current) if not (e.tag is AclTag.USER and e.id == uid)]
    write_acl(path, _with_mask(entries))
