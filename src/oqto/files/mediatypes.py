"""Content types that are safe to serve from a workspace the agent can write to.

Workspace files are attacker-controllable, so nothing is ever served with a type a
browser would execute or render as a document (HTML, SVG, JavaScript, PDF...).
"""

import codecs
from urllib.parse import quote

TEXT_PLAIN = "text/plain; charset=utf-8"
OCTET_STREAM = "application/octet-stream"

# Raster formats browsers decode as images only; never SVG, which can carry script.
_SAFE_IMAGE_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
}


def safe_content_type(name: str, head: bytes, *, whole_file: bool) -> str:
    """Pick a type from the extension for raster images and by sniffing `head` otherwise.

    `whole_file` says whether `head` is all of the content; if not, a multibyte
    character cut off at its end is not held against it.
    """
    _, dot, ext = name.rpartition(".")
    if dot and (image_type := _SAFE_IMAGE_TYPES.get(ext.lower())):
        return image_type
    return TEXT_PLAIN if _looks_like_utf8_text(head, whole_file) else OCTET_STREAM


def _looks_like_utf8_text(head: bytes, whole_file: bool) -> bool:
    if b"\x00" in head:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=whole_file)
    except UnicodeDecodeError:
        return False
    return True


def attachment_disposition(filename: str) -> str:
    """A Content-Disposition that forces a download and keeps non-ASCII names intact."""
    fallback = "".join(
        ch if ch.isascii() and ch.isprintable() and ch not in '"\\;' else "_" for ch in filename
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
