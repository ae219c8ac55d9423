"""What the API answers when a session's user plane is slow, fails or cannot be reached:
the real app in multi-user mode over fake user planes, so each case takes milliseconds."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse
from tests.support.server import wait_for
from tests.unit.fake_userplanes import (
    CrashingUserPlane,
    FakeBackend,
    FakeUserPlane,
    GatedUserPlane,
    NeverReadyUserPlane,
    UnreachableUserPlane,
)

from oqto.config import load_config
from oqto.control import app as control_app
from oqto.control.app import build_context, create_app
from oqto.control.auth.tokens import issue_token
from oqto.db.models import Role, TokenKind, User
from oqto.protocol.errors import ErrorCode
from oqto.protocol.sessions import SandboxReport, ServiceName, SessionRuntime, SessionSpec
from oqto.sandbox.policy import SandboxRefused
from oqto.userplane.base import UserPlaneError

Connect = Callable[[FakeUserPlane], TestClient]


@pytest.fixture
def connect(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Connect]:
    """A client of user ann, whose sessions run on the given user plane; bob exists too."""
    clients: list[TestClient] = []

    def make(plane: FakeUserPlane) -> TestClient:
        backend = FakeBackend(reconcile_interval=30)
        backend.planes["ann"] = plane
        monkeypatch.setattr(control_app, "make_backend", lambda *_args: backend)
        config = tmp_path / "c.toml"
        config.write_text(f'[server]\ndata_dir = "{tmp_path}/data"\n')
        ctx, made = build_context(load_config(config, environ={}).config, single_user=False)
        with ctx.db.begin() as db:
            ann = User(username="ann", password_hash="x", role=Role.USER, linux_user="ann")
            db.add_all([ann, User(username="bob", password_hash="x", role=Role.USER)])
            db.flush()
            token, _row = issue_token(db, ann, TokenKind.API, None, name="test")
        client = TestClient(create_app(ctx, made), headers={"Authorization": f"Bearer {token}"})
        clients.append(client.__enter__())  # the lifespan, and one event loop throughout
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def create(client: TestClient) -> str:
    created = client.post("/api/sessions", json={"workspace": "w"})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def settled(client: TestClient, sid: str, status: str) -> dict[str, Any]:
    body: dict[str, Any] = wait_for(
        lambda: (b := client.get(f"/api/sessions/{sid}").json())["status"] == status and b,
        5,
        f"the session to be {status}",
        interval=0.002,
    )
    return body


def test_a_starting_sessions_routes_say_retry_later(connect: Connect) -> None:
    client = connect(GatedUserPlane())
    sid = create(client)
    proxied = client.get(f"/api/sessions/{sid}/files/tree")
    assert proxied.status_code == 503 and proxied.json()["error"] == "session_starting"
    assert int(proxied.headers["Retry-After"]) > 0


@pytest.mark.parametrize(
    ("plane", "reason"),
    [(NeverReadyUserPlane(), "did not answer"), (CrashingUserPlane(), "internal error")],
)
def test_a_failed_start_shows_its_reason_and_its_routes_answer_409(
    connect: Connect, plane: FakeUserPlane, reason: str
) -> None:
    client = connect(plane)
    sid = create(client)
    assert reason in settled(client, sid, "failed")["error"]
    proxied = client.get(f"/api/sessions/{sid}/files/tree")
    assert proxied.status_code == 409 and proxied.json()["error"] == "session_not_running"
    assert "Retry-After" not in proxied.headers


def test_a_start_the_sandbox_refuses_fails_with_its_reason_as_it_is(connect: Connect) -> None:
    reason = (
        "user namespaces do not work here (kernel.apparmor_restrict_unprivileged_userns = 1): "
        "bwrap: setting up uid map: Permission denied"
    )

    class Refusing(FakeUserPlane):
        async def start_session(self, spec: SessionSpec) -> SessionRuntime:
            raise SandboxRefused(reason)

    client = connect(Refusing())
    sid = create(client)
    failed = settled(client, sid, "failed")
    assert failed["error"] == reason and failed["sandbox"] is None
    assert client.get("/api/sessions").json() == [failed]


def test_a_running_session_says_how_it_is_confined(connect: Connect) -> None:
    plane = FakeUserPlane()
    plane.sandbox = SandboxReport(
        enabled=True,
        profile="development",
        network="allowlist",
        pid_namespace=True,
        memory_max=2 << 30,
        tasks_max=512,
        limits_unenforced="no user systemd manager",
    )
    client = connect(plane)
    sid = create(client)
    running = settled(client, sid, "running")
    assert running["sandbox"] == {
        "enabled": True,
        "profile": "development",
        "network": "allowlist",
        "pid_namespace": True,
        "memory_max": 2147483648,
        "tasks_max": 512,
        "cpu_weight": None,
        "limits_unenforced": "no user systemd manager",
    }
    assert client.get("/api/sessions").json() == [running]
    plane.sandbox = SandboxReport(enabled=False)
    client.post(f"/api/sessions/{sid}/stop")
    client.post(f"/api/sessions/{sid}/resume")
    assert settled(client, sid, "running")["sandbox"] == {
        "enabled": False,
        "profile": None,
        "network": None,
        "pid_namespace": False,
        "memory_max": None,
        "tasks_max": None,
        "cpu_weight": None,
        "limits_unenforced": None,
    }


def test_a_stopped_sessions_routes_answer_409(connect: Connect) -> None:
    client = connect(FakeUserPlane())
    sid = create(client)
    settled(client, sid, "running")
    assert client.post(f"/api/sessions/{sid}/stop").json()["status"] == "stopped"
    proxied = client.get(f"/api/sessions/{sid}/files/tree")
    assert proxied.status_code == 409 and proxied.json()["error"] == "session_not_running"


def test_an_unreachable_runner_is_a_503_and_changes_nothing(connect: Connect) -> None:
    plane = UnreachableUserPlane()
    plane.reachable = True
    client = connect(plane)
    sid = create(client)
    settled(client, sid, "running")
    plane.reachable = False
    stop = client.post(f"/api/sessions/{sid}/stop")
    assert stop.status_code == 503 and stop.json()["error"] == "runner_unavailable"
    assert "Retry-After" in stop.headers
    assert client.get(f"/api/sessions/{sid}").json()["status"] == "running"
    # A start that cannot reach the runner fails, with the runner's reason.
    assert "runner" in settled(client, create(client), "failed")["error"]


def test_another_users_session_is_missing_not_forbidden(connect: Connect) -> None:
    client = connect(FakeUserPlane())
    sid = create(client)
    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    with ctx.db.begin() as db:
        bob = db.query(User).filter_by(username="bob").one()
        token, _row = issue_token(db, bob, TokenKind.API, None, name="test")
    as_bob = {"Authorization": f"Bearer {token}"}
    for method, path in [("GET", ""), ("POST", "/stop"), ("GET", "/files/tree")]:
        answer = client.request(method, f"/api/sessions/{sid}{path}", headers=as_bob)
        assert answer.status_code == 404 and answer.json()["error"] == "not_found"


class RefusingUserPlane(FakeUserPlane):
    """Refuses every stop and every connection with one code, as a runner reports it (the
    code, not a status)."""

    def __init__(self, code: ErrorCode) -> None:
        super().__init__()
        self.code = code

    async def stop_session(self, session_id: str) -> None:
        raise UserPlaneError(self.code, f"refused: {self.code.value}")

    async def connect_service(self, session_id: str, service: ServiceName) -> socket.socket:
        raise UserPlaneError(self.code, f"refused: {self.code.value}")


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (ErrorCode.PATH_TOO_LONG, 400),  # a request the user plane cannot carry out
        (ErrorCode.ACCOUNT_MISMATCH, 500),  # for an operator to fix
        (ErrorCode.INVALID_MESSAGE, 502),  # the runner spoke wrongly
        (ErrorCode.RUNNER_UNAVAILABLE, 503),  # the runner went away: try again shortly
        (ErrorCode.SESSION_NOT_RUNNING, 409),  # it stopped before the control plane heard
        (ErrorCode.UPSTREAM_REFUSED, 502),  # served by the wrong account
    ],
)
def test_a_user_plane_code_keeps_its_status_at_the_api(
    connect: Connect, code: ErrorCode, status: int
) -> None:
    """A stop, a proxied request and a terminal upgrade each answer with the user plane's
    own code, not a catch-all 502."""
    client = connect(RefusingUserPlane(code))
    sid = create(client)
    settled(client, sid, "running")
    stop = client.post(f"/api/sessions/{sid}/stop")
    assert stop.status_code == status
    assert stop.json() == {"error": code.value, "message": f"refused: {code.value}"}
    assert ("Retry-After" in stop.headers) is (code is ErrorCode.RUNNER_UNAVAILABLE)
    proxied = client.get(f"/api/sessions/{sid}/files/tree")
    assert proxied.status_code == status, proxied.text
    assert proxied.json()["error"] == code.value
    terminal = f"/api/sessions/{sid}/terminal"
    with (
        pytest.raises(WebSocketDenialResponse) as refused,
        client.websocket_connect(terminal, subprotocols=["tty"]),
    ):
        pass
    assert refused.value.status_code == status
    assert refused.value.json()["error"] == code.value
