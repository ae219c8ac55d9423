"""Names that are not valid UTF-8 (a Latin-1 tarball, say): left out and counted, never a 500."""

import io
import os
import zipfile
from pathlib import Path

import httpx
import pytest

from oqto.files.entries import nameable
from oqto.files.workspace import WorkspaceFS

pytestmark = pytest.mark.anyio


def make_bytes_name(parent: Path, name: bytes, *, directory: bool = False) -> None:
    path = os.path.join(os.fsencode(parent), name)
    if directory:
        os.mkdir(path)
    else:
        with open(path, "wb") as f:
            f.write(b"latin-1 named\n")


@pytest.fixture
def mixed(root: Path) -> Path:
    (root / "good.txt").write_text("good\n")
    (root / "café.txt").write_text("valid UTF-8, not ASCII\n")
    make_bytes_name(root, b"bad\xff.txt")
    make_bytes_name(root, b"\xe9t\xe9", directory=True)
    (root / "sub").mkdir()
    (root / "sub" / "ok.txt").write_text("ok\n")
    make_bytes_name(root / "sub", b"caf\xe9.txt")
    return root


async def test_tree_lists_the_nameable_entries_and_counts_the_rest(
    client: httpx.AsyncClient, mixed: Path
) -> None:
    response = await client.get("/tree", params={"path": ""})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [e["name"] for e in body["entries"]] == ["sub", "café.txt", "good.txt"]
    assert body["invalid_names"] == 2

    # Deeper levels add theirs to the same count.
    deep = (await client.get("/tree", params={"path": "", "depth": 2})).json()
    assert deep["invalid_names"] == 3
    assert [e["name"] for e in deep["entries"][0]["children"]] == ["ok.txt"]

    sub = (await client.get("/tree", params={"path": "sub"})).json()
    assert (sub["invalid_names"], [e["path"] for e in sub["entries"]]) == (1, ["sub/ok.txt"])


async def test_a_clean_directory_counts_zero(client: httpx.AsyncClient, root: Path) -> None:
    (root / "a.txt").write_text("a")
    assert (await client.get("/tree", params={"path": ""})).json()["invalid_names"] == 0


async def test_no_client_spelling_reaches_an_undecodable_name(
    client: httpx.AsyncClient, mixed: Path
) -> None:
    # The raw byte percent-escaped is decoded as UTF-8 (with U+FFFD), like every path,
    # so it names a file that is not there rather than the Latin-1 one.
    for query in ("path=bad%FF.txt", "path=bad%EF%BF%BD.txt"):
        response = await client.get(f"/file?{query}")
        assert response.status_code == 404, response.text
        assert response.json()["error"] == "not_found"


async def test_zip_leaves_them_out_too(client: httpx.AsyncClient, mixed: Path) -> None:
    response = await client.get("/download-zip", params={"paths": ""})
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        assert zf.testzip() is None
        assert sorted(zf.namelist()) == ["café.txt", "good.txt", "sub/", "sub/ok.txt"]


def test_the_library_call_agrees(mixed: Path) -> None:
    fs = WorkspaceFS(mixed)
    try:
        listing = fs.tree("", depth=3)
    finally:
        fs.close()
    assert listing["invalid_names"] == 3
    assert all(nameable(e["name"]) for e in listing["entries"])


@pytest.mark.parametrize(
    ("name", "ok"),
    [("plain.txt", True), ("café", True), ("日本語", True), (os.fsdecode(b"x\xff"), False)],
)
def test_nameable(name: str, ok: bool) -> None:
    assert nameable(name) is ok
