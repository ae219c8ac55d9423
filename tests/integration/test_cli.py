"""`oqto serve` as a user runs it: config errors, the first admin, stopping, restarting."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
from pathlib import Path

import httpx
import pytest
from tests.support.procs import tagged_pids
from tests.support.server import VENV_BIN, OqtoServer, free_port, tool_env


def serve(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "oqto"), "serve", *args],
        env=env or tool_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_unknown_config_key_is_refused_by_name(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[server]\nlisten = "127.0.0.1:3999"\nlisten_port = 3\n')
    result = serve("--config", str(config), "--single-user")
    assert result.returncode == 2
    assert f"{config}: [server] listen_port: unknown key" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_value_and_missing_file_and_bad_flag(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[backend]\nmode = "cloud"\n')
    result = serve("--config", str(config), "--single-user")
    assert result.returncode == 2 and "[backend] mode" in result.stderr
    missing = serve("--config", str(tmp_path / "none.toml"), "--single-user")
    assert missing.returncode == 2 and "none.toml: config file not found" in missing.stderr
    env = tool_env(OQTO_CONFIG=str(tmp_path / "via-env.toml"))
    via_env = serve("--single-user", env=env)
    assert via_env.returncode == 2 and "via-env.toml" in via_env.stderr
    flag = serve("--mode", "cloud")
    assert flag.returncode == 2 and "--mode" in flag.stderr
    for result in (missing, via_env, flag):
        assert "Traceback" not in result.stderr


def test_container_mode_is_refused_loudly(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[server]\ndata_dir = "{tmp_path}/data"\n')
    container = serve("--config", str(config), "--mode", "container", "--single-user")
    assert container.returncode == 2 and "container" in container.stderr


def test_generated_admin_password_is_printed_once(tmp_path: Path) -> None:
    srv = OqtoServer(tmp_path)
    del srv.env["OQTO_ADMIN_PASSWORD"]
    srv.start()
    try:
        first_log = srv.log()
        line = next(li for li in first_log.splitlines() if "Created administrator" in li)
        password = line.split("with password ")[1].split()[0]
        assert len(password) >= 16
        assert srv.login("admin", password)
        assert (
            httpx.post(
                f"{srv.url}/api/auth/login", json={"username": "admin", "password": "admin"}
            ).status_code
            == 401
        )
    finally:
        assert srv.stop() == 0
    srv.start()
    try:
        assert srv.log().count("Created administrator") == 1
    finally:
        assert srv.stop() == 0


def test_taken_port_fails_before_the_first_admin_is_created(tmp_path: Path) -> None:
    srv = OqtoServer(tmp_path)
    del srv.env["OQTO_ADMIN_PASSWORD"]
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", srv.port))
        squatter.listen()
        taken = serve("--config", str(srv.config_path), "--single-user", env=srv.env)
    assert taken.returncode == 2
    assert f"cannot listen on 127.0.0.1:{srv.port}" in taken.stderr
    assert "Created administrator" not in taken.stderr + taken.stdout
    assert "Traceback" not in taken.stderr
    assert not (tmp_path / "data").exists(), "the database was touched before listening"
    # Once the port is free, the first start creates the admin and shows its password.
    srv.start()
    try:
        line = next(li for li in srv.log().splitlines() if "Created administrator" in li)
        assert srv.login("admin", line.split("with password ")[1].split()[0])
    finally:
        assert srv.stop() == 0


def test_stopping_the_server_stops_sessions_and_restart_reports_them(
    tmp_path: Path, opencode_json: Path
) -> None:
    # Without restore (tests/integration/test_session_restore.py has it): what a restart
    # reports of the sessions that stopped with the server.
    env = {"OQTO_SESSIONS__RESTORE_ON_START": "false"}
    srv = OqtoServer(tmp_path, opencode_config=opencode_json, env=env).start()
    try:
        with srv.client(srv.login()) as client:
            sid = client.post("/api/sessions", json={"workspace": "restart"}).json()["id"]
            srv.wait_status(client, sid, "running")
            assert tagged_pids(f"OQTO_SESSION_ID={sid}".encode())
    finally:
        assert srv.stop() == 0
    assert tagged_pids(f"OQTO_SESSION_ID={sid}".encode()) == {}
    srv.start()
    try:
        with srv.client(srv.login()) as client:
            row = client.get(f"/api/sessions/{sid}").json()
            assert row["status"] == "stopped"
            client.post(f"/api/sessions/{sid}/resume")
            srv.wait_status(client, sid, "running")
    finally:
        assert srv.stop() == 0
    assert tagged_pids(f"OQTO_SESSION_ID={sid}".encode()) == {}


def _config_with(tmp_path: Path, extra: str, data_dir: str | None = None) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[server]\nlisten = "127.0.0.1:{free_port()}"\n'
        f'data_dir = "{data_dir or tmp_path / "data"}"\n'
        f'[local]\nsocket_dir = "{tmp_path / "run"}"\n{extra}'
    )
    return config


def _refused(config: Path, *expected: str) -> None:
    result = serve(
        "--config", str(config), "--single-user", env=tool_env(OQTO_ADMIN_PASSWORD="x" * 16)
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr
    assert "Created administrator" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("sqlite:////nonexistent-dir/x.db", "the directory /nonexistent-dir does not exist"),
        ("sqlite:///{tmp}/adir", "is a directory, not a database file"),
        ("sqlite:///{tmp}/notes.txt", "file is not a database"),
        ("bogus://host/x", "unsupported database or driver"),
        ("not a url", "not a database URL"),
    ],
)
def test_database_url_that_is_not_a_database_is_refused_by_name(
    tmp_path: Path, url: str, problem: str
) -> None:
    (tmp_path / "adir").mkdir()
    (tmp_path / "notes.txt").write_text("not a database, just some notes\n" * 8)
    url = url.format(tmp=tmp_path)
    _refused(_config_with(tmp_path, f'[database]\nurl = "{url}"\n'), "[database] url", problem)
    assert (tmp_path / "notes.txt").read_text().startswith("not a database")


def test_data_dir_under_a_regular_file_is_refused_by_name(tmp_path: Path) -> None:
    config = _config_with(tmp_path, "", data_dir="/etc/passwd/x")
    _refused(config, "[server] data_dir: /etc/passwd/x", "/etc/passwd is not a directory")


def test_socket_dir_taken_by_another_account_is_refused(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to create a directory owned by another account")
    taken = tmp_path / "run"
    taken.mkdir()
    taken.chmod(0o777)
    os.chown(taken, 65534, 65534)
    _refused(_config_with(tmp_path, ""), "[local] socket_dir", "owned by uid 65534")
    st = taken.stat()
    assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (65534, 0o777)  # left as it was


def test_data_dir_and_database_are_private(tmp_path: Path) -> None:
    previous = os.umask(0o022)  # a login shell's umask: SQLite alone would make 0644
    try:
        srv = OqtoServer(tmp_path).start()
    finally:
        os.umask(previous)
    try:
        data = tmp_path / "data"
        modes = {
            path.name: stat.S_IMODE(path.stat().st_mode) for path in [data, *data.glob("oqto.db*")]
        }
        assert modes.pop("data") == 0o700
        assert "oqto.db" in modes and "oqto.db-wal" in modes
        assert set(modes.values()) == {0o600}, modes
        assert stat.S_IMODE(srv.runtime.stat().st_mode) == 0o700
    finally:
        assert srv.stop() == 0


def test_version_and_help_texts() -> None:
    """`--version` on both tools; help shows config keys as written, and both tools
    describe the same config lookup."""
    version = subprocess.run(
        [str(VENV_BIN / "python"), "-c", "from oqto import package_version as v; print(v())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    for tool in ("oqto", "oqtoctl"):
        shown = subprocess.run([str(VENV_BIN / tool), "--version"], capture_output=True, text=True)
        assert (shown.returncode, shown.stdout.strip()) == (0, f"oqto {version}")
    env = {**tool_env(), "COLUMNS": "200"}
    serve_help = serve("--help", env=env).stdout
    assert "overrides [server] listen." in serve_help
    assert "overrides [backend] mode." in serve_help
    ctl_help = subprocess.run(
        [str(VENV_BIN / "oqtoctl"), "--help"], env=env, capture_output=True, text=True
    ).stdout
    for both in ("$OQTO_CONFIG", "/etc/oqto/config.toml", "~/.config/oqto/config.toml"):
        assert both in serve_help and both in ctl_help, both
