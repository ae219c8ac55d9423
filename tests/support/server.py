"""A real `oqto serve` in a subprocess, for integration tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from tests.support.procs import tagged_pids

REPO = Path(__file__).resolve().parents[2]
TOOLS_BIN = REPO / ".tools" / "bin"
VENV_BIN = Path(sys.executable).parent
# One warmed opencode HOME for the whole run: a fresh HOME makes opencode download its
# plugin and provider packages (~100 MB) again.
OPENCODE_HOME = REPO / ".cache" / "opencode-home"
ADMIN_PASSWORD = "admin-test-pass-1"


def wait_for(
    condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.05
) -> Any:
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = condition()
        except Exception as exc:  # the condition may raise while the thing is coming up
            last_error = exc
            result = None
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what} ({last_error!r})")


def tool_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OQTO_")}
    env["PATH"] = os.pathsep.join([str(TOOLS_BIN), str(VENV_BIN), env.get("PATH", "")])
    env.update(extra)
    return env


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OqtoServer:
    def __init__(
        self,
        root: Path,
        *,
        opencode_config: Path | None = None,
        extra_config: str = "",
        env: dict[str, str] | None = None,
        single_user: bool = True,
        sandbox: str | None = None,
    ) -> None:
        """`sandbox`: the admin sandbox file's text; without it the file is absent, which
        means the built-in default profile (never the host's /etc/oqto/sandbox.toml)."""
        self.root = root
        self.single_user = single_user
        root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config_path = root / "config.toml"
        self.workspaces = root / "ws"
        self.runtime = root / "run"
        self.log_path = root / "server.log"
        self.sandbox_path = root / "sandbox.toml"
        if sandbox is not None:
            self.sandbox_path.write_text(sandbox)
        self.proc: subprocess.Popen[bytes] | None = None
        oc = f'config_file = "{opencode_config}"\n' if opencode_config else ""
        self.config_path.write_text(
            f"""
[server]
listen = "127.0.0.1:{self.port}"
data_dir = "{root / "data"}"

[local]
socket_dir = "{self.runtime}"
workspace_root = "{self.workspaces}/{{user}}"

[opencode]
start_timeout_seconds = 240
{oc}
[sessions]
stop_grace_seconds = 3

[sandbox]
config = "{self.sandbox_path}"
{extra_config}
"""
        )
        OPENCODE_HOME.mkdir(parents=True, exist_ok=True)
        self.env = tool_env(
            HOME=str(OPENCODE_HOME),
            OQTO_ADMIN_PASSWORD=ADMIN_PASSWORD,
            XDG_RUNTIME_DIR=str(root / "xdg"),
            **(env or {}),
        )

    def start(self) -> OqtoServer:
        mode = ["--single-user"] if self.single_user else ["--mode", "local"]
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "oqto"), "serve", "--config", str(self.config_path), *mode],
            env=self.env,
            stdout=self.log_path.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        def healthy() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"oqto serve exited:\n{self.log()}")
            return httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200

        wait_for(healthy, 60, "oqto serve to answer /api/health")
        mode_seen = httpx.get(f"{self.url}/api/health").json()["mode"]
        assert mode_seen == ("single-user" if self.single_user else "multi-user"), mode_seen
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        """SIGTERM and wait; return 0 for a clean exit. uvicorn re-raises the signal after
        its graceful shutdown, so dying of SIGTERM counts as clean (as it does for systemd)."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=60)
            return 0 if code == -signal.SIGTERM else code
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            raise AssertionError(f"oqto serve ignored SIGTERM:\n{self.log()}") from None

    def login(self, username: str = "admin", password: str = ADMIN_PASSWORD) -> str:
        response = httpx.post(
            f"{self.url}/api/auth/login", json={"username": username, "password": password}
        )
        assert response.status_code == 200, response.text
        return str(response.json()["token"])

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    def wait_status(self, client: httpx.Client, session_id: str, *wanted: str) -> dict[str, Any]:
        def reached() -> dict[str, Any] | None:
            body: dict[str, Any] = client.get(f"/api/sessions/{session_id}").json()
            if body["status"] in wanted:
                return body
            if body["status"] == "failed" and "failed" not in wanted:
                raise AssertionError(f"session failed: {body['error']}")
            return None

        result: dict[str, Any] = wait_for(reached, 300, f"session {session_id} -> {wanted}")
        return result


def stopped_cleanly(srv: OqtoServer) -> None:
    """Stop `srv` and check that it exited cleanly and left no session process behind."""
    code = srv.stop()
    assert code == 0, f"oqto serve exited with {code}:\n{srv.log()[-4000:]}"
    assert tagged_pids(under=srv.root) == {}, "session processes left after the server stopped"
