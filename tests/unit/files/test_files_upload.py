"""Multipart uploads: streamed to temp files, renamed into place only on full success."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import httpx
import pytest

from oqto.files.atomic import TEMP_PREFIX
from oqto.files.limits import FileLimits

pytestmark = pytest.mark.anyio

ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]
BOUNDARY = "oqtoTestBoundary7MA4YWxkTrZu0gW"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def part(filename: str | None, data: bytes, field: str = "file") -> bytes:
    disposition = f'form-data; name="{field}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    return (
        (
            f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + b"\r\n"
    )


def body(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def assert_clean(root: Path) -> None:
    assert not list(root.rglob(f"{TEMP_PREFIX}*"))


async def test_upload_several_files(client: httpx.AsyncClient, root: Path) -> None:
    (root / "in").mkdir()
    response = await client.post(
        "/file",
        params={"path": "in"},
        files=[("file", ("a.txt", b"alpha")), ("file", ("b.bin", b"\x00\x01" * 1000))],
        data={"note": "form fields are ignored"},
    )
    assert response.status_code == 201, response.text
    entries = response.json()["entries"]
    assert [(e["path"], e["size"]) for e in entries] == [("in/a.txt", 5), ("in/b.bin", 2000)]
    assert all(e["etag"] for e in entries)
    assert (root / "in" / "a.txt").read_bytes() == b"alpha"
    assert (root / "in" / "b.bin").read_bytes() == b"\x00\x01" * 1000
    assert sorted(p.name for p in (root / "in").iterdir()) == ["a.txt", "b.bin"]


async def test_upload_into_root_and_binary_safe_boundaries(
    client: httpx.AsyncClient, root: Path
) -> None:
    # Data that contains CRLF and dashes must survive the boundary scan.
    tricky = b"\r\n--" + BOUNDARY[:-1].encode() + b"\r\n\r\n--\r\n"
    response = await client.post(
        "/file",
        params={"path": ""},
        content=body(part("t.bin", tricky)),
        headers={"Content-Type": CONTENT_TYPE},
    )
    assert response.status_code == 201, response.text
    assert (root / "t.bin").read_bytes() == tricky


async def test_upload_filenames_are_sanitised(
    client: httpx.AsyncClient, root: Path, tmp_path: Path
) -> None:
    response = await client.post(
        "/file",
        params={"path": ""},
        content=body(
            part("../../evil.sh", b"1"),
            part("C:\\\\Users\\\\x\\\\win.txt", b"2"),
            part("na\u00efve <draft>?.md", b"3"),
        ),
        headers={"Content-Type": CONTENT_TYPE},
    )
    assert response.status_code == 201, response.text
    assert sorted(p.name for p in root.iterdir()) == [
        "....evil.sh",
        "na\u00efve draft.md",
        "win.txt",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ws"]


async def test_upload_rejects_unusable_filename(client: httpx.AsyncClient, root: Path) -> None:
    response = await client.post(
        "/file",
        params={"path": ""},
        content=body(part("ok.txt", b"fine"), part("..", b"bad")),
        headers={"Content-Type": CONTENT_TYPE},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_path"
    assert list(root.iterdir()) == []  # all or nothing


async def test_upload_does_not_overwrite_unless_asked(
    client: httpx.AsyncClient, root: Path
) -> None:
    (root / "a.txt").write_text("original")
    files = {"file": ("a.txt", b"replacement")}
    refused = await client.post("/file", params={"path": ""}, files=files)
    assert refused.status_code == 409
    assert refused.json()["error"] == "exists"
    assert (root / "a.txt").read_text() == "original"
    assert_clean(root)

    allowed = await client.post("/file", params={"path": "", "overwrite": "true"}, files=files)
    assert allowed.status_code == 201
    assert (root / "a.txt").read_text() == "replacement"


async def test_upload_onto_directory_is_refused(client: httpx.AsyncClient, root: Path) -> None:
    (root / "d").mkdir()
    response = await client.post(
        "/file", params={"path": "", "overwrite": "true"}, files={"file": ("d", b"x")}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "is_a_directory"
    assert (root / "d").is_dir()


async def test_upload_target_directory(client: httpx.AsyncClient, root: Path) -> None:
    files = {"file": ("a.txt", b"x")}
    missing = await client.post("/file", params={"path": "new/dir"}, files=files)
    assert missing.status_code == 404
    (root / "f.txt").write_text("x")
    not_dir = await client.post("/file", params={"path": "f.txt"}, files=files)
    assert not_dir.status_code == 400
    assert not_dir.json()["error"] == "not_a_directory"
    created = await client.post("/file", params={"path": "new/dir", "mkdir": "true"}, files=files)
    assert created.status_code == 201
    assert (root / "new" / "dir" / "a.txt").read_bytes() == b"x"


async def test_upload_over_declared_limit_is_refused_early(
    make_client: ClientFactory, root: Path
) -> None:
    async with make_client(FileLimits(max_upload_bytes=1024)) as client:
        response = await client.post(
            "/file", params={"path": ""}, files={"file": ("big.bin", b"x" * 2048)}
        )
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"
    assert "1024" in response.json()["message"]
    assert list(root.iterdir()) == []


async def test_upload_over_limit_is_aborted_mid_stream(
    make_client: ClientFactory, root: Path
) -> None:
    (root / "big.bin").write_bytes(b"old")
    sent = 0

    async def stream() -> AsyncIterator[bytes]:
        nonlocal sent
        first = part("small.txt", b"complete file")
        yield first + part("big.bin", b"")[:-2]  # open the second part, then stream its data
        for _ in range(1000):
            sent += 1
            yield b"x" * 1024

    async with make_client(FileLimits(max_upload_bytes=16 * 1024)) as client:
        response = await client.post(
            "/file",
            params={"path": "", "overwrite": "true"},
            content=stream(),
            headers={"Content-Type": CONTENT_TYPE},
        )
    assert response.status_code == 413
    assert sent < 30  # stopped reading right after the limit
    # Neither the completed first part nor any temp file remains; the old file is intact.
    assert [p.name for p in root.iterdir()] == ["big.bin"]
    assert (root / "big.bin").read_bytes() == b"old"


async def test_truncated_or_malformed_body(client: httpx.AsyncClient, root: Path) -> None:
    truncated = await client.post(
        "/file",
        params={"path": ""},
        content=part("a.txt", b"no closing boundary"),
        headers={"Content-Type": CONTENT_TYPE},
    )
    assert truncated.status_code == 400
    assert truncated.json()["error"] == "bad_request"

    garbage = await client.post(
        "/file",
        params={"path": ""},
        content=b"this is not multipart at all",
        headers={"Content-Type": CONTENT_TYPE},
    )
    assert garbage.status_code == 400

    wrong_type = await client.post(
        "/file", params={"path": ""}, content=b"x", headers={"Content-Type": "text/plain"}
    )
    assert wrong_type.status_code == 400
    assert "multipart/form-data" in wrong_type.json()["message"]
    assert list(root.iterdir()) == []


async def test_part_without_filename_or_empty_filename_is_ignored(
    client: httpx.AsyncClient, root: Path
) -> None:
    response = await client.post(
        "/file",
        params={"path": ""},
        content=body(part(None, b"field"), part("", b""), part("real.txt", b"r")),
        headers={"Content-Type": CONTENT_TYPE},
    )
    assert response.status_code == 201
    assert [e["name"] for e in response.json()["entries"]] == ["real.txt"]
    assert [p.name for p in root.iterdir()] == ["real.txt"]
