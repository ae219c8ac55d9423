"""Every file operation through the control plane's proxy to the session's oqto-files."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.server import OqtoServer


def files(session: dict[str, Any], path: str) -> str:
    return f"/api/sessions/{session['id']}/files{path}"


def test_file_operations(admin: httpx.Client, running_session: dict[str, Any]) -> None:
    s = running_session
    assert admin.put(files(s, "/mkdir"), params={"path": "docs/sub"}).status_code in (200, 201)
    put = admin.put(files(s, "/file"), params={"path": "docs/a.txt"}, content=b"hello\n")
    assert put.status_code in (200, 201), put.text
    got = admin.get(files(s, "/file"), params={"path": "docs/a.txt"})
    assert got.status_code == 200 and got.content == b"hello\n"
    assert got.headers["x-content-type-options"] == "nosniff"

    upload = admin.post(
        files(s, "/file"),
        params={"path": "docs/sub"},
        files={"file": ("up load.bin", b"\x00\x01binary", "application/octet-stream")},
    )
    assert upload.status_code in (200, 201), upload.text

    tree = admin.get(files(s, "/tree"), params={"path": "docs", "depth": 3}).json()
    names = {e["name"] for e in tree["entries"]}
    assert {"a.txt", "sub"} <= names
    sub = next(e for e in tree["entries"] if e["name"] == "sub")
    assert [c["name"] for c in sub["children"]] == ["up load.bin"]

    renamed = admin.post(
        files(s, "/rename"), params={"old_path": "docs/a.txt", "new_path": "docs/b.txt"}
    )
    assert renamed.status_code == 200, renamed.text
    assert admin.get(files(s, "/file"), params={"path": "docs/a.txt"}).status_code == 404

    download = admin.get(files(s, "/download"), params={"path": "docs/b.txt"})
    assert download.content == b"hello\n"
    assert download.headers["content-disposition"].startswith("attachment")

    archive = admin.get(files(s, "/download-zip"), params={"paths": "docs"})
    assert archive.status_code == 200
    with zipfile.ZipFile(io.BytesIO(archive.content)) as zf:
        members = set(zf.namelist())
        assert any(m.endswith("docs/b.txt") for m in members), members
        assert any(m.endswith("docs/sub/up load.bin") for m in members), members

    assert admin.delete(files(s, "/file"), params={"path": "docs"}).status_code == 204
    assert admin.get(files(s, "/tree"), params={"path": "docs"}).status_code == 404


@pytest.mark.parametrize(
    "path", ["../outside.txt", "/etc/passwd", "a/../../x", "docs/\x00x", "./../x"]
)
def test_traversal_is_refused(
    admin: httpx.Client, running_session: dict[str, Any], path: str
) -> None:
    for method, route in (
        ("GET", "/file"),
        ("PUT", "/file"),
        ("DELETE", "/file"),
        ("PUT", "/mkdir"),
    ):
        response = admin.request(method, files(running_session, route), params={"path": path})
        assert 400 <= response.status_code < 500, (method, route, path, response.text)


def test_symlink_escape_is_refused(
    server: OqtoServer, admin: httpx.Client, running_session: dict[str, Any], tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    workspace = server.workspaces / "admin" / running_session["workspace"]
    link = workspace / "escape"
    link.unlink(missing_ok=True)
    os.symlink(tmp_path, link)
    read = admin.get(files(running_session, "/file"), params={"path": "escape/secret.txt"})
    assert read.status_code in (403, 404) and b"top secret" not in read.content
    write = admin.put(
        files(running_session, "/file"), params={"path": "escape/new.txt"}, content=b"x"
    )
    assert write.status_code in (403, 404) and not (tmp_path / "new.txt").exists()
    listing = admin.get(files(running_session, "/tree"), params={"path": "escape"})
    assert listing.status_code in (403, 404)
    link.unlink()


def test_a_wrong_method_is_405_with_allow(
    admin: httpx.Client, running_session: dict[str, Any]
) -> None:
    """From the session's file server through the proxy, from the proxy route itself, and
    from an API route: the envelope, and every method the path serves."""
    sid = running_session["id"]
    for method, path, allow in [
        ("PATCH", files(running_session, "/file"), "GET, POST, PUT, DELETE"),
        ("TRACE", files(running_session, "/file"), "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"),
        ("PATCH", f"/api/sessions/{sid}/stop", "POST"),
        ("PUT", "/api/auth/login", "POST"),
    ]:
        response = admin.request(method, path, params={"path": "x"})
        assert response.status_code == 405, (method, path, response.text)
        assert response.json()["error"] == "method_not_allowed"
        assert set(response.headers["allow"].split(", ")) == set(allow.split(", ")), path


def test_oversize_upload_gets_413(admin: httpx.Client, running_session: dict[str, Any]) -> None:
    big = b"x" * (1024 * 1024 + 1)  # the test server allows 1 MB
    response = admin.put(files(running_session, "/file"), params={"path": "big.bin"}, content=big)
    assert response.status_code == 413
    assert "1" in response.json()["message"]
    multipart = admin.post(
        files(running_session, "/file"), params={"path": ""}, files={"f": ("big.bin", big)}
    )
    assert multipart.status_code == 413
    assert admin.get(files(running_session, "/file"), params={"path": "big.bin"}).status_code == 404


def test_responses_carry_one_date_and_no_server_header(
    admin: httpx.Client, running_session: dict[str, Any]
) -> None:
    # oqto-files runs uvicorn too: its date and server must not be added to ours.
    response = admin.get(files(running_session, "/tree"), params={"path": ""})
    assert response.status_code == 200
    assert len(response.headers.get_list("date")) == 1
    assert "server" not in response.headers


def test_declared_oversize_upload_gets_413_before_the_body(
    server: OqtoServer, admin: httpx.Client, running_session: dict[str, Any]
) -> None:
    """Only the headers are sent: the answer must come without the body being relayed."""
    import socket
    import time

    path = files(running_session, "/file") + "?path=declared.bin"
    head = (
        f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Authorization: {admin.headers['Authorization']}\r\n"
        f"Content-Length: {50 * 1024 * 1024}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head.encode())
        deadline = time.monotonic() + 10
        answer = b""
        while b"\r\n\r\n" not in answer:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                raise AssertionError(f"no answer without the body; got {answer!r}") from None
            assert chunk, f"closed after {answer!r}"
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert (
        admin.get(files(running_session, "/file"), params={"path": "declared.bin"}).status_code
        == 404
    )
