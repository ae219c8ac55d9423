"""Confinement and safe serving: nothing outside the root is ever read, written or listed."""

import io
import os
import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.anyio


@pytest.fixture
def links(root: Path, outside: Path) -> Path:
    (root / "real.txt").write_text("inside")
    (root / "realdir").mkdir()
    (root / "realdir" / "f.txt").write_text("inside dir")
    (root / "escape").symlink_to(outside)
    (root / "escape_file").symlink_to(outside / "secret.txt")
    (root / "etc").symlink_to("/etc")
    (root / "dangling").symlink_to(outside / "planted.txt")
    (root / "inside_link").symlink_to("real.txt")
    (root / "inside_dir").symlink_to("realdir")
    return root


Refused = Callable[..., None]


@pytest.fixture
def assert_refused(tmp_path: Path) -> Refused:
    def check(response: httpx.Response, status: int = 403, code: str = "outside_root") -> None:
        assert response.status_code == status, response.text
        assert response.json()["error"] == code
        assert "top secret" not in response.text
        assert str(tmp_path) not in response.text  # no server paths leaked

    return check


@pytest.mark.parametrize(
    "rel",
    [
        "../outside/secret.txt",
        "a/../../outside/secret.txt",
        "..",
        "/etc/passwd",
        "//etc/passwd",
        "ok\x00.txt",
    ],
)
async def test_traversal_is_rejected_everywhere(
    client: httpx.AsyncClient, assert_refused: Refused, root: Path, outside: Path, rel: str
) -> None:
    (root / "a").mkdir()
    requests: list[Callable[[], Awaitable[httpx.Response]]] = [
        lambda: client.get("/file", params={"path": rel}),
        lambda: client.get("/download", params={"path": rel}),
        lambda: client.get("/tree", params={"path": rel}),
        lambda: client.put("/file", params={"path": rel}, content=b"pwned"),
        lambda: client.delete("/file", params={"path": rel}),
        lambda: client.put("/mkdir", params={"path": rel}),
        lambda: client.post("/rename", params={"old_path": rel, "new_path": "x"}),
        lambda: client.post("/rename", params={"old_path": "a", "new_path": rel}),
        lambda: client.get("/download-zip", params={"paths": rel}),
        lambda: client.post("/file", params={"path": rel}, files={"f": ("x.txt", b"x")}),
    ]
    for request in requests:
        assert_refused(await request(), 400, "invalid_path")
    assert (outside / "secret.txt").read_text() == "top secret"
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


async def test_percent_encoded_traversal(
    client: httpx.AsyncClient, assert_refused: Refused
) -> None:
    # Decoded once by the server: this is "../outside/secret.txt".
    encoded = await client.get("/file?path=%2e%2e%2foutside%2fsecret.txt")
    assert_refused(encoded, 400, "invalid_path")
    # Decoded once, "%2e%2e%2f..." is just an odd (missing) file name, not a traversal.
    double = await client.get("/file?path=%252e%252e%252foutside%252fsecret.txt")
    assert_refused(double, 404, "not_found")
    nul = await client.get("/file?path=real.txt%00.png")
    assert_refused(nul, 400, "invalid_path")


@pytest.mark.parametrize("rel", ["escape/secret.txt", "escape_file", "etc/passwd", "etc/hostname"])
async def test_reading_through_escaping_symlink_is_refused(
    client: httpx.AsyncClient, assert_refused: Refused, links: Path, rel: str
) -> None:
    assert_refused(await client.get("/file", params={"path": rel}))
    assert_refused(await client.get("/download", params={"path": rel}))


@pytest.mark.parametrize("rel", ["escape", "etc", "escape/"])
async def test_listing_into_escaping_symlink_is_refused(
    client: httpx.AsyncClient, assert_refused: Refused, links: Path, rel: str
) -> None:
    assert_refused(await client.get("/tree", params={"path": rel}))


@pytest.mark.parametrize("rel", ["escape_file", "escape/secret.txt", "escape/new.txt", "dangling"])
async def test_writing_through_escaping_symlink_is_refused(
    client: httpx.AsyncClient, assert_refused: Refused, links: Path, outside: Path, rel: str
) -> None:
    assert_refused(await client.put("/file", params={"path": rel}, content=b"pwned"))
    assert_refused(
        await client.put("/file", params={"path": rel, "mkdir": "true"}, content=b"pwned")
    )
    assert (outside / "secret.txt").read_text() == "top secret"
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


async def test_mkdir_and_upload_through_escaping_symlink_are_refused(
    client: httpx.AsyncClient, assert_refused: Refused, links: Path, outside: Path
) -> None:
    assert_refused(await client.put("/mkdir", params={"path": "escape/newdir"}))
    assert_refused(await client.put("/mkdir", params={"path": "dangling/x"}))
    upload = await client.post("/file", params={"path": "escape"}, files={"f": ("x.txt", b"x")})
    assert_refused(upload)
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


async def test_delete_through_escaping_symlink_is_refused(
    client: httpx.AsyncClient, assert_refused: Refused, links: Path, outside: Path
) -> None:
    assert_refused(await client.delete("/file", params={"path": "escape/secret.txt"}))
    assert (outside / "secret.txt").exists()
    # Deleting the link itself is fine: it only removes the name inside the root.
    assert (await client.delete("/file", params={"path": "escape_file"})).status_code == 204
    assert not (links / "escape_file").is_symlink()
    assert (outside / "secret.txt").read_text() == "top secret"


async def test_rename_through_or_onto_escaping_symlink(
    client: httpx.AsyncClient, assert_refused: Refused, links: Path, outside: Path
) -> None:
    steal = await client.post(
        "/rename", params={"old_path": "escape/secret.txt", "new_path": "stolen.txt"}
    )
    assert_refused(steal)
    plant = await client.post("/rename", params={"old_path": "real.txt", "new_path": "escape/x"})
    assert_refused(plant)
    onto = await client.post("/rename", params={"old_path": "real.txt", "new_path": "escape_file"})
    assert_refused(onto, 409, "exists")
    # With overwrite the link itself is replaced; its target is never touched.
    forced = await client.post(
        "/rename",
        params={"old_path": "real.txt", "new_path": "escape_file", "overwrite": "true"},
    )
    assert forced.status_code == 200
    assert not (links / "escape_file").is_symlink()
    assert (links / "escape_file").read_text() == "inside"
    assert (outside / "secret.txt").read_text() == "top secret"
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


async def test_zip_refuses_escaping_paths_and_skips_escaping_links(
    client: httpx.AsyncClient, assert_refused: Refused, links: Path
) -> None:
    assert_refused(await client.get("/download-zip", params={"paths": "escape"}))
    assert_refused(await client.get("/download-zip", params={"paths": "escape_file"}))
    response = await client.get("/download-zip", params={"paths": ""})
    assert response.status_code == 200
    assert b"top secret" not in response.content
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        names = set(zf.namelist())
        assert names == {"real.txt", "realdir/", "realdir/f.txt", "inside_link"}
        assert zf.read("inside_link") == b"inside"


async def test_symlinks_inside_root_can_be_used(client: httpx.AsyncClient, links: Path) -> None:
    read = await client.get("/file", params={"path": "inside_link"})
    assert read.status_code == 200
    assert read.text == "inside"
    assert (await client.get("/file", params={"path": "inside_dir/f.txt"})).text == "inside dir"
    listing = await client.get("/tree", params={"path": "inside_dir"})
    assert [e["path"] for e in listing.json()["entries"]] == ["inside_dir/f.txt"]
    tree = (await client.get("/tree", params={"depth": 3})).json()
    types = {e["name"]: e["type"] for e in tree["entries"]}
    assert types["escape"] == types["inside_dir"] == types["etc"] == "symlink"
    assert all("children" not in e for e in tree["entries"] if e["type"] == "symlink")
    write = await client.put("/file", params={"path": "inside_link"}, content=b"edited")
    assert write.status_code == 200
    assert (links / "real.txt").read_text() == "edited"
    assert (links / "inside_link").is_symlink()


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("page.html", b"<html><script>alert(1)</script></html>", "text/plain; charset=utf-8"),
        (
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
            "text/plain; charset=utf-8",
        ),
        ("app.js", b"alert(document.cookie)", "text/plain; charset=utf-8"),
        ("Makefile", "all:\n\techo h\u00e9".encode(), "text/plain; charset=utf-8"),
        ("doc.pdf", b"%PDF-1.7\n\x00\x01binary", "application/octet-stream"),
        ("data.bin", b"\xff\xfe\x00\x00junk", "application/octet-stream"),
        ("latin1.txt", "caf\u00e9".encode("latin-1"), "application/octet-stream"),
        ("cut.txt", "\u20ac".encode() * 30_000, "text/plain; charset=utf-8"),
        ("photo.PNG", b"\x89PNG\r\n\x1a\n" + b"\x00" * 16, "image/png"),
        ("pic.jpeg", b"\xff\xd8\xff\xe0", "image/jpeg"),
        ("anim.gif", b"GIF89a", "image/gif"),
        ("img.webp", b"RIFF\x00\x00\x00\x00WEBP", "image/webp"),
        ("fake.png", b"<html><script>alert(1)</script>", "image/png"),
        ("empty.txt", b"", "text/plain; charset=utf-8"),
    ],
)
async def test_served_content_types_are_safe(
    client: httpx.AsyncClient,
    root: Path,
    name: str,
    content: bytes,
    expected: str,
) -> None:
    (root / name).write_bytes(content)
    response = await client.get("/file", params={"path": name})
    assert response.status_code == 200
    assert response.headers["content-type"] == expected
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert "content-disposition" not in response.headers
    assert response.content == content


async def test_security_headers_on_json_and_errors(client: httpx.AsyncClient) -> None:
    for response in (await client.get("/tree"), await client.get("/file", params={"path": "x"})):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-security-policy"] == "sandbox; default-src 'none'"


async def test_special_files_are_not_served(client: httpx.AsyncClient, root: Path) -> None:
    os.mkfifo(root / "pipe")
    response = await client.get("/file", params={"path": "pipe"})
    assert response.status_code == 400
    assert response.json()["error"] == "not_a_file"
