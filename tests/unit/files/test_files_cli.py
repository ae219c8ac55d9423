"""The real `oqto-files` process on a Unix socket, and its argument validation."""

import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from oqto.files.cli import main

STARTUP_DEADLINE = 20.0


def command() -> list[str]:
    script = Path(sys.executable).parent / "oqto-files"
    return [str(script)] if script.exists() else [sys.executable, "-m", "oqto.files"]


def accepts_connections(sock: Path) -> bool:
    # A raw probe first: httpx leaks the socket of a refused Unix connection.
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        try:
            probe.connect(str(sock))
        except OSError:
            return False
    return True


def wait_until_healthy(proc: subprocess.Popen[bytes], sock: Path) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE
    transport = httpx.HTTPTransport(uds=str(sock))
    with httpx.Client(transport=transport, base_url="http://files", timeout=0.5) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                _, err = proc.communicate()
                pytest.fail(f"server exited early ({proc.returncode}): {err.decode()}")
            if accepts_connections(sock) and client.get("/health").json() == {"status": "ok"}:
                return
            time.sleep(0.02)  # poll interval, bounded by the deadline
    pytest.fail("server did not become healthy in time")


def make_stale_socket(path: Path) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.bind(str(path))  # closed without unlinking, as after a crash


def test_serves_on_private_unix_socket_and_exits_on_sigterm(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "hello.txt").write_text("hi")
    sock = tmp_path / "files.sock"
    make_stale_socket(sock)

    proc = subprocess.Popen(
        [*command(), "--root", str(root), "--socket", str(sock), "--log-level", "warning"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_until_healthy(proc, sock)
        assert stat.S_ISSOCK(os.lstat(sock).st_mode)
        assert stat.S_IMODE(os.lstat(sock).st_mode) == 0o600

        transport = httpx.HTTPTransport(uds=str(sock))
        with httpx.Client(transport=transport, base_url="http://files", timeout=5) as client:
            assert client.get("/file", params={"path": "hello.txt"}).text == "hi"
            with client.stream("GET", "/download-zip", params={"paths": "hello.txt"}) as zipped:
                assert zipped.status_code == 200
                assert zipped.headers["transfer-encoding"] == "chunked"
                zipped.read()

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=STARTUP_DEADLINE) == 0
        assert not sock.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]


def refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run the command line in process; it must exit 2 (usage): returns its stderr."""
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    assert exited.value.code == 2
    return capsys.readouterr().err


def test_missing_root_exits_2_naming_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "--root" in refused(capsys, "--root", str(tmp_path / "nope"), "--port", "8765")


def test_root_must_be_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("x")
    assert "--root" in refused(capsys, "--root", str(tmp_path / "file"), "--port", "8765")


@pytest.mark.parametrize("extra", [[], ["--port", "8765", "--socket", "x.sock"]])
def test_exactly_one_listener(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str]
) -> None:
    assert "--socket" in refused(capsys, "--root", str(tmp_path), *extra)


@pytest.mark.parametrize(
    ("flag", "value"), [("--port", "0"), ("--port", "65536"), ("--max-upload-mb", "0")]
)
def test_numbers_out_of_range(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str
) -> None:
    argv = ["--root", str(tmp_path), "--socket", str(tmp_path / "s.sock"), flag, value]
    if flag == "--port":
        argv[2:4] = []
    assert flag in refused(capsys, *argv)


def test_refuses_socket_path_that_is_not_a_socket(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "regular").write_text("keep me")
    err = refused(capsys, "--root", str(tmp_path), "--socket", str(tmp_path / "regular"))
    assert "not a socket" in err
    assert (tmp_path / "regular").read_text() == "keep me"


def test_refuses_socket_in_use(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "busy.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(str(path))
        listener.listen()
        assert "in use" in refused(capsys, "--root", str(tmp_path), "--socket", str(path))
