"""JSON-able directory entries and the ETags used for conflict detection."""

import os
import stat
from typing import Literal, NotRequired, TypedDict

EntryType = Literal["file", "dir", "symlink", "other"]


class Entry(TypedDict):
    name: str
    path: str
    type: EntryType
    size: int
    mtime: float
    etag: NotRequired[str]
    # Absent: not listed (depth limit, truncation, unreadable); [] means empty.
    children: NotRequired[list["Entry"]]


class TreeListing(TypedDict):
    path: str
    entries: list[Entry]
    truncated: bool


def entry_type(mode: int) -> EntryType:
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISREG(mode):
        return "file"
    # Sockets, FIFOs and devices (e.g. git's fsmonitor socket) are listed but not served.
    return "other"


def make_entry(rel: str, st: os.stat_result) -> Entry:
    """Describe the object at client path `rel` ("" for the root) from its stat result."""
    kind = entry_type(st.st_mode)
    entry: Entry = {
        "name": rel.rpartition("/")[2],
        "path": rel,
        "type": kind,
        "size": 0 if kind == "dir" else st.st_size,
        "mtime": st.st_mtime,
    }
    if kind == "file":
        entry["etag"] = etag_for(st)
    return entry


def etag_for(st: os.stat_result) -> str:
    # The inode changes on every atomic replace, so even a same-size write within the
    # filesystem's timestamp granularity yields a new tag.
    return f'"{st.st_ino:x}-{st.st_mtime_ns:x}-{st.st_size:x}"'


def etag_matches(header: str, current: str | None, *, weak: bool = False) -> bool:
    """Evaluate an If-Match (strong) or If-None-Match (weak=True) header value.

    Strong comparison never accepts a W/ tag: it cannot prove the bytes are identical,
    which is what a conflict check needs. Weak comparison suits cache revalidation,
    where a proxy may have weakened the tag.
    """
    if header.strip() == "*":
        return current is not None
    if current is None:
        return False
    for tag in header.split(","):
        tag = tag.strip()
        if weak:
            tag = tag.removeprefix("W/")
        if tag == current:
            return True
    return False
