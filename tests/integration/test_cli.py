"""`oqto serve` as a user runs it: config errors, the first admin, stopping, restarting."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import httpx
from tests.support.procs import tagged_pids
from tests.support.server import VENV_BIN, OqtoServer, tool_env


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
    srv = OqtoServer(tmp_path, opencode_config=opencode_json).start()
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
