"""Every HTTP route on its happy path and its ordinary failures."""

import asyncio
import io
import os
import zipfile
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest

from oqto.files.app import create_app
from oqto.files.atomic import TEMP_PREFIX
from oqto.files.limits import FileLimits

ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]

pytestmark = pytest.mark.anyio


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code
    assert body["message"]


async def test_health(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_tree(client: httpx.AsyncClient, root: Path) -> None:
    (root / "src").mkdir()
    (root / "src" / "main.py").write_text("print()")
    (root / "README.md").write_text("# hi")
    response = await client.get("/tree", params={"path": "", "depth": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["path"] == ""
    assert body["truncated"] is False
    src, readme = body["entries"]
    assert src == {
        "name": "src",
        "path": "src",
        "type": "dir",
        "size": 0,
        "mtime": pytest.approx((root / "src").stat().st_mtime),
        "children": [
            {
                "name": "main.py",
                "path": "src/main.py",
                "type": "file",
                "size": 7,
                "mtime": pytest.approx((root / "src" / "main.py").stat().st_mtime),
                "etag": src["children"][0]["etag"],
            }
        ],
    }
    assert readme["name"] == "README.md"
    assert readme["type"] == "file"

    sub = (await client.get("/tree", params={"path": "src"})).json()
    assert sub["path"] == "src"
    assert [e["path"] for e in sub["entries"]] == ["src/main.py"]


async def test_tree_errors(client: httpx.AsyncClient, root: Path) -> None:
    (root / "f.txt").write_text("x")
    assert_error(await client.get("/tree", params={"path": "nope"}), 404, "not_found")
    assert_error(await client.get("/tree", params={"path": "f.txt"}), 400, "not_a_directory")
    assert_error(await client.get("/tree", params={"depth": 0}), 422, "invalid_request")


async def test_read_file_with_etag_and_revalidation(client: httpx.AsyncClient, root: Path) -> None:
    (root / "notes.md").write_text("hello")
    response = await client.get("/file", params={"path": "notes.md"})
    assert response.status_code == 200
    assert response.content == b"hello"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["content-length"] == "5"
    assert response.headers["last-modified"].endswith("GMT")
    etag = response.headers["etag"]

    cached = await client.get("/file", params={"path": "notes.md"}, headers={"If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.content == b""
    weak = await client.get(
        "/file", params={"path": "notes.md"}, headers={"If-None-Match": f"W/{etag}"}
    )
    assert weak.status_code == 304

    (root / "notes.md").write_text("changed")
    stale = await client.get("/file", params={"path": "notes.md"}, headers={"If-None-Match": etag})
    assert stale.status_code == 200
    assert stale.content == b"changed"


async def test_read_large_file_streams_whole_content(client: httpx.AsyncClient, root: Path) -> None:
    data = bytes(range(256)) * 4096  # 1 MiB, many read chunks
    (root / "blob.bin").write_bytes(data)
    response = await client.get("/file", params={"path": "blob.bin"})
    assert response.content == data
    assert response.headers["content-type"] == "application/octet-stream"


async def test_read_file_errors(client: httpx.AsyncClient, root: Path) -> None:
    (root / "d").mkdir()
    assert_error(await client.get("/file", params={"path": "missing"}), 404, "not_found")
    assert_error(await client.get("/file", params={"path": "d"}), 400, "is_a_directory")
    assert_error(await client.get("/file"), 422, "invalid_request")


async def test_put_creates_then_replaces(client: httpx.AsyncClient, root: Path) -> None:
    created = await client.put("/file", params={"path": "a.txt"}, content=b"one")
    assert created.status_code == 201
    assert created.json()["path"] == "a.txt"
    assert created.headers["etag"] == created.json()["etag"]
    replaced = await client.put("/file", params={"path": "a.txt"}, content=b"two")
    assert replaced.status_code == 200
    assert replaced.json()["etag"] != created.json()["etag"]
    assert (root / "a.txt").read_text() == "two"


async def test_put_streams_chunked_body(client: httpx.AsyncClient, root: Path) -> None:
    async def body() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"x" * 100_000

    response = await client.put("/file", params={"path": "big.bin"}, content=body())
    assert response.status_code == 201
    assert (root / "big.bin").stat().st_size == 1_000_000


async def test_put_parent_must_exist_unless_mkdir(client: httpx.AsyncClient, root: Path) -> None:
    params = {"path": "new/dir/f.txt"}
    assert_error(await client.put("/file", params=params, content=b"x"), 404, "not_found")
    response = await client.put("/file", params={**params, "mkdir": "true"}, content=b"x")
    assert response.status_code == 201
    assert (root / "new" / "dir" / "f.txt").read_text() == "x"


async def test_put_onto_directory_is_refused(client: httpx.AsyncClient, root: Path) -> None:
    (root / "d").mkdir()
    assert_error(
        await client.put("/file", params={"path": "d"}, content=b"x"), 400, "is_a_directory"
    )
    assert_error(
        await client.put("/file", params={"path": ""}, content=b"x"), 400, "is_a_directory"
    )


async def test_put_if_match_detects_conflicts(client: httpx.AsyncClient, root: Path) -> None:
    (root / "doc.txt").write_text("v1")
    etag = (await client.get("/file", params={"path": "doc.txt"})).headers["etag"]

    ok = await client.put(
        "/file", params={"path": "doc.txt"}, content=b"v2", headers={"If-Match": etag}
    )
    assert ok.status_code == 200
    new_etag = ok.headers["etag"]

    # Someone else saved in between: the stale tag must not clobber their change.
    conflict = await client.put(
        "/file", params={"path": "doc.txt"}, content=b"v3", headers={"If-Match": etag}
    )
    assert_error(conflict, 412, "etag_mismatch")
    assert (root / "doc.txt").read_text() == "v2"

    weak = await client.put(
        "/file", params={"path": "doc.txt"}, content=b"v3", headers={"If-Match": f"W/{new_etag}"}
    )
    assert_error(weak, 412, "etag_mismatch")

    missing = await client.put(
        "/file", params={"path": "new.txt"}, content=b"x", headers={"If-Match": "*"}
    )
    assert_error(missing, 412, "etag_mismatch")
    assert not (root / "new.txt").exists()
    assert not list(root.glob(f"{TEMP_PREFIX}*"))


async def test_put_over_limit(make_client: ClientFactory, root: Path) -> None:
    (root / "f.txt").write_text("old")
    async with make_client(FileLimits(max_upload_bytes=1000)) as client:
        declared = await client.put("/file", params={"path": "f.txt"}, content=b"x" * 1001)
        assert_error(declared, 413, "too_large")
        assert "1000" in declared.json()["message"]

        sent_chunks = 0

        async def body() -> AsyncIterator[bytes]:
            nonlocal sent_chunks
            for _ in range(100):
                sent_chunks += 1
                yield b"x" * 400

        streamed = await client.put("/file", params={"path": "f.txt"}, content=body())
        assert_error(streamed, 413, "too_large")
    assert sent_chunks < 10  # aborted mid-stream, not after reading everything
    assert (root / "f.txt").read_text() == "old"
    assert not list(root.glob(f"{TEMP_PREFIX}*"))


async def test_delete(client: httpx.AsyncClient, root: Path) -> None:
    (root / "f.txt").write_text("x")
    (root / "d" / "sub").mkdir(parents=True)
    (root / "d" / "sub" / "g.txt").write_text("y")
    assert (await client.delete("/file", params={"path": "f.txt"})).status_code == 204
    assert (await client.delete("/file", params={"path": "d"})).status_code == 204
    assert list(root.iterdir()) == []
    assert_error(await client.delete("/file", params={"path": "f.txt"}), 404, "not_found")


@pytest.mark.parametrize("rel", ["", ".", "./", "a/.."])
async def test_delete_root_is_refused(client: httpx.AsyncClient, root: Path, rel: str) -> None:
    response = await client.delete("/file", params={"path": rel})
    assert response.status_code in (400, 403)
    assert root.is_dir()


async def test_mkdir(client: httpx.AsyncClient, root: Path) -> None:
    first = await client.put("/mkdir", params={"path": "a/b/c"})
    assert first.status_code == 201
    assert first.json()["type"] == "dir"
    assert (root / "a" / "b" / "c").is_dir()
    assert (await client.put("/mkdir", params={"path": "a/b/c"})).status_code == 200
    (root / "f.txt").write_text("x")
    assert_error(await client.put("/mkdir", params={"path": "f.txt"}), 409, "exists")


async def test_rename(client: httpx.AsyncClient, root: Path) -> None:
    (root / "a.txt").write_text("a")
    (root / "b.txt").write_text("b")
    (root / "d").mkdir()

    moved = await client.post("/rename", params={"old_path": "a.txt", "new_path": "d/a2.txt"})
    assert moved.status_code == 200
    assert moved.json()["path"] == "d/a2.txt"
    assert (root / "d" / "a2.txt").read_text() == "a"

    clash = await client.post("/rename", params={"old_path": "b.txt", "new_path": "d/a2.txt"})
    assert_error(clash, 409, "exists")
    assert (root / "d" / "a2.txt").read_text() == "a"

    forced = await client.post(
        "/rename", params={"old_path": "b.txt", "new_path": "d/a2.txt", "overwrite": "true"}
    )
    assert forced.status_code == 200
    assert (root / "d" / "a2.txt").read_text() == "b"

    missing = await client.post("/rename", params={"old_path": "nope", "new_path": "x"})
    assert_error(missing, 404, "not_found")
    into_itself = await client.post("/rename", params={"old_path": "d", "new_path": "d/sub"})
    assert_error(into_itself, 400, "invalid_path")
    no_parent = await client.post("/rename", params={"old_path": "d", "new_path": "x/y"})
    assert_error(no_parent, 404, "not_found")
    assert_error(await client.post("/rename", params={"old_path": "d"}), 422, "invalid_request")


async def test_download_sets_attachment(client: httpx.AsyncClient, root: Path) -> None:
    (root / "naïve résumé.html").write_text("<script>alert(1)</script>")
    response = await client.get("/download", params={"path": "naïve résumé.html"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''na%C3%AFve%20r%C3%A9sum%C3%A9.html" in disposition
    assert response.content == b"<script>alert(1)</script>"


async def test_download_zip(client: httpx.AsyncClient, root: Path) -> None:
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "pkg" / "mod.py").write_text("x = 1")
    (root / "src" / "empty").mkdir()
    (root / "notes.txt").write_text("notes")
    (root / "other").mkdir()
    (root / "other" / "notes.txt").write_text("other notes")

    response = await client.get(
        "/download-zip",
        params=[("paths", "src"), ("paths", "notes.txt"), ("paths", "other/notes.txt")],
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert "content-length" not in response.headers  # streamed, size unknown up front
    assert "download.zip" in response.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        assert zf.testzip() is None
        assert sorted(zf.namelist()) == [
            "notes (2).txt",
            "notes.txt",
            "src/",
            "src/empty/",
            "src/pkg/",
            "src/pkg/mod.py",
        ]
        assert zf.read("src/pkg/mod.py") == b"x = 1"
        assert zf.read("notes.txt") == b"notes"
        assert zf.read("notes (2).txt") == b"other notes"


async def test_download_zip_comma_separated_and_name(client: httpx.AsyncClient, root: Path) -> None:
    (root / "a.txt").write_text("a")
    (root / "b.txt").write_text("b")
    (root / "c,d.txt").write_text("comma")
    response = await client.get(
        "/download-zip", params={"paths": "a.txt,b.txt", "name": "my stuff"}
    )
    assert response.status_code == 200
    assert 'filename="my stuff.zip"' in response.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        assert sorted(zf.namelist()) == ["a.txt", "b.txt"]

    literal = await client.get("/download-zip", params={"paths": "c,d.txt"})
    with zipfile.ZipFile(io.BytesIO(literal.content)) as zf:
        assert zf.namelist() == ["c,d.txt"]


async def test_download_zip_of_root(client: httpx.AsyncClient, root: Path) -> None:
    (root / "a.txt").write_text("a")
    response = await client.get("/download-zip", params={"paths": ""})
    assert "workspace.zip" in response.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        assert zf.namelist() == ["a.txt"]


async def test_download_zip_limits(make_client: ClientFactory, root: Path) -> None:
    (root / "d").mkdir()
    for i in range(5):
        (root / "d" / f"{i}.txt").write_text("x" * 100)
    async with make_client(FileLimits(max_zip_entries=3)) as client:
        response = await client.get("/download-zip", params={"paths": "d"})
        assert_error(response, 413, "too_large")
        assert "3 entries" in response.json()["message"]
    async with make_client(FileLimits(max_zip_bytes=250)) as client:
        response = await client.get("/download-zip", params={"paths": "d"})
        assert_error(response, 413, "too_large")
        assert "250 bytes" in response.json()["message"]


async def test_download_zip_errors(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/download-zip", params={"paths": "nope"}), 404, "not_found")
    assert_error(await client.get("/download-zip", params={"paths": ","}), 400, "bad_request")
    assert_error(await client.get("/download-zip"), 422, "invalid_request")


async def test_download_zip_of_empty_workspace_is_a_valid_empty_zip(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/download-zip", params={"paths": ""})
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        assert zf.namelist() == []


async def test_unknown_route_and_method(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/nope"), 404, "not_found")
    wrong = await client.patch("/file", params={"path": "x"})
    assert_error(wrong, 405, "method_not_allowed")
    assert set(wrong.headers["allow"].split(", ")) == {"GET", "PUT", "POST", "DELETE"}


async def test_file_descriptors_are_released(client: httpx.AsyncClient, root: Path) -> None:
    (root / "f.txt").write_text("x" * 200_000)
    (root / "d").mkdir()
    fd_dir = Path("/proc/self/fd")
    if not fd_dir.exists():
        pytest.skip("needs /proc")
    await client.get("/file", params={"path": "f.txt"})  # warm up lazily opened resources
    before = len(list(fd_dir.iterdir()))
    for _ in range(20):
        ok = await client.get("/file", params={"path": "f.txt"})
        await client.get(
            "/file", params={"path": "f.txt"}, headers={"If-None-Match": ok.headers["etag"]}
        )
        await client.get("/download", params={"path": "f.txt"})
        await client.get("/file", params={"path": "d"})
        await client.get("/download-zip", params={"paths": "f.txt"})
    assert len(list(fd_dir.iterdir())) <= before


@pytest.mark.parametrize(
    ("method", "route", "params", "message"),
    [
        ("GET", "/file", {}, "query.path: Field required"),
        ("GET", "/tree", {"depth": "0"}, "query.depth: Input should be greater than or equal to 1"),
        ("GET", "/tree", {"depth": "two"}, "query.depth: Input should be a valid integer"),
        ("PUT", "/file", {"path": "a", "mkdir": "maybe"}, "query.mkdir: Input should be a valid"),
        ("GET", "/download-zip", {}, "query.paths: Field required"),
    ],
)
async def test_invalid_parameters_are_named(
    client: httpx.AsyncClient, method: str, route: str, params: dict[str, str], message: str
) -> None:
    response = await client.request(method, route, params=params)
    assert_error(response, 422, "invalid_request")
    assert response.json()["message"].startswith(message)


async def test_boolean_parameters_take_the_usual_spellings(
    client: httpx.AsyncClient, root: Path
) -> None:
    (root / ".hidden").write_text("x")
    (root / "shown").write_text("x")
    for no in ("false", "0", "No", "off"):
        listing = (await client.get("/tree", params={"show_hidden": no})).json()
        assert [e["name"] for e in listing["entries"]] == ["shown"]
    for yes in ("true", "1", "YES", "on"):
        listing = (await client.get("/tree", params={"show_hidden": yes})).json()
        assert [e["name"] for e in listing["entries"]] == [".hidden", "shown"]


async def test_files_larger_than_a_chunk_stream_whole_both_ways(
    client: httpx.AsyncClient, root: Path
) -> None:
    data = bytes(range(251)) * 12_000  # ~2.9 MiB: the first chunk, then several more

    async def body() -> AsyncIterator[bytes]:
        for start in range(0, len(data), 70_001):  # not aligned with any chunk size
            yield data[start : start + 70_001]

    put = await client.put("/file", params={"path": "big.bin"}, content=body())
    assert put.status_code == 201
    assert (root / "big.bin").read_bytes() == data
    for route in ("/file", "/download"):
        got = await client.get(route, params={"path": "big.bin"})
        assert got.headers["content-length"] == str(len(data))
        assert got.content == data


async def test_a_download_stops_when_the_client_goes_away(root: Path) -> None:
    """The server would otherwise read the whole file to drop it; the file is closed."""
    (root / "big.bin").write_bytes(b"x" * (16 * 1024 * 1024))
    app = create_app(root, FileLimits())
    first_chunk_sent = asyncio.Event()
    sent: list[dict[str, Any]] = []
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await first_chunk_sent.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and message.get("body"):
            first_chunk_sent.set()

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/download",
        "query_string": b"path=big.bin",
        "headers": [],
    }
    fds = len(os.listdir("/proc/self/fd"))
    await asyncio.wait_for(app(scope, receive, send), timeout=10)
    assert sent[0]["status"] == 200
    body_bytes = sum(len(m.get("body", b"")) for m in sent[1:])
    assert 0 < body_bytes < 16 * 1024 * 1024
    assert len(os.listdir("/proc/self/fd")) <= fds
