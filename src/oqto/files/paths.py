"""Validation of client-supplied relative paths and uploaded file names.

This is the lexical half of confinement: no absolute paths, no "..", no NUL. The other
half, that no lookup (symlinks included) leaves the root even while the tree changes
under it, is `oqto.files.beneath`: paths are never resolved first and opened later.
"""

import unicodedata

from oqto.files.errors import WorkspaceError
from oqto.protocol.errors import ErrorCode

MAX_NAME_BYTES = 255
_FORBIDDEN_NAME_CHARS = frozenset('/\\:*?"<>|')
# Bidi overrides let a name like "evil\u202egnp.exe" display as "evilexe.png".
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Keeping a short extension when truncating preserves how the file will be opened.
_MAX_KEPT_SUFFIX_BYTES = 16


def split_rel(rel: str) -> tuple[str, ...]:
    """Validate a client path and return its components; () means the root itself.

    The components are PurePosixPath's (empty and "." ones dropped), split by hand:
    every request splits its path, and pathlib's parser cost several microseconds.
    """
    if "\x00" in rel:
        raise WorkspaceError(ErrorCode.INVALID_PATH, "path contains a NUL byte")
    if rel.startswith("/"):
        raise WorkspaceError(ErrorCode.INVALID_PATH, f"path must be relative to the root: {rel}")
    parts = tuple(part for part in rel.split("/") if part and part != ".")
    if ".." in parts:
        raise WorkspaceError(ErrorCode.INVALID_PATH, f"path must not contain '..': {rel}")
    return parts


def normalize_rel(rel: str) -> str:
    """The canonical client spelling of `rel` ("" for the root), as used in responses."""
    return "/".join(split_rel(rel))


def sanitize_filename(name: str) -> str:
    """Turn an untrusted (uploaded) filename into a single safe path component."""
    name = unicodedata.normalize("NFC", name)
    name = "".join(
        ch
        for ch in name
        if ch not in _FORBIDDEN_NAME_CHARS
        and ch not in _BIDI_CONTROLS
        and unicodedata.category(ch) != "Cc"
    )
    # Leading dots are kept so dotfiles (.env, .gitignore) survive an upload; trailing
    # dots and spaces are dropped because many tools and filesystems mangle them.
    name = name.strip(" ").rstrip(". ")
    if not name.strip("."):
        raise WorkspaceError(ErrorCode.INVALID_PATH, "filename is empty after sanitising")
    return _truncate_utf8(name, MAX_NAME_BYTES)


def _truncate_utf8(name: str, limit: int) -> str:
    if len(name.encode()) <= limit:
        return name
    stem, dot, suffix = name.rpartition(".")
    if not stem or len(suffix.encode()) > _MAX_KEPT_SUFFIX_BYTES:
        stem, dot, suffix = name, "", ""
    room = limit - len((dot + suffix).encode())
    # Cutting the encoded form and decoding with "ignore" drops a split multibyte char.
    kept = stem.encode()[:room].decode(errors="ignore")
    return kept + dot + suffix
