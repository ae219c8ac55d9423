"""`GET /api/events`: session changes fanned out to each owner's connections, bounded per
connection."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from oqto.config import load_config
from oqto.control.api import events
from oqto.control.api.events import QUEUE_SIZE, SessionEventHub, encode_change
from oqto.control.app import build_context, create_app
from oqto.control.auth.passwords import hash_password
from oqto.control.context import ControlContext
from oqto.db.models import AuthToken, Role, Session, SessionStatus, User, utcnow


def row(user_id: str, status: SessionStatus = SessionStatus.RUNNING) -> Session:
    now = utcnow()
    return Session(
        id="s1",
        user_id=user_id,
        workspace="w",
        status=status,
        error=None,
        created_at=now,
        updated_at=now,
    )


def test_changes_reach_only_the_owner() -> None:
    async def scenario() -> None:
        hub = SessionEventHub()
        mine, theirs = hub.subscribe("u1"), hub.subscribe("u2")
        hub.publish("u1", "s1", row("u1"))
        payload = mine.queue.get_nowait()
        assert payload.startswith(b"event: session\ndata: ")
        assert json.loads(payload.split(b"data: ", 1)[1])["status"] == "running"
        assert theirs.queue.empty()
        hub.unsubscribe(mine)
        hub.publish("u1", "s1", None)
        assert mine.queue.empty()

    asyncio.run(scenario())


def test_deleted_sessions_are_announced_by_id() -> None:
    assert encode_change("s9", None) == b'event: session.deleted\ndata: {"id":"s9"}\n\n'


def test_a_slow_client_gets_one_resync_instead_of_unbounded_memory() -> None:
    async def scenario() -> None:
        hub = SessionEventHub()
        sub = hub.subscribe("u1")
        for _ in range(QUEUE_SIZE + 10):
            hub.publish("u1", "s1", row("u1"))
        assert sub.queue.qsize() == QUEUE_SIZE
        assert sub.take_overflow() is True
        assert sub.queue.empty()
        assert sub.take_overflow() is False

    asyncio.run(scenario())


def make_app(tmp_path: Path) -> tuple[FastAPI, ControlContext, str, str]:
    """The app, its context, a user id and a bearer token of that user."""
    config = tmp_path / "c.toml"
    config.write_text(
        f'[server]\ndata_dir = "{tmp_path}/data"\n[local]\nsocket_dir = "{tmp_path}/run"\n'
    )
    ctx, backend = build_context(load_config(config, environ={}).config, single_user=True)
    with ctx.db.begin() as db:
        user = User(username="ann", password_hash=hash_password("ann-password"), role=Role.USER)
        db.add(user)
        db.flush()
        uid = user.id
    app = create_app(ctx, backend)
    token = (
        TestClient(app)
        .post("/api/auth/login", json={"username": "ann", "password": "ann-password"})
        .json()["token"]
    )
    return app, ctx, uid, token


@pytest.mark.timeout(60)
def test_the_stream_starts_with_resync_then_carries_changes(tmp_path: Path) -> None:
    app, ctx, uid, token = make_app(tmp_path)
    hub: SessionEventHub = app.state.session_events
    with (
        TestClient(app) as client,  # one event loop for the stream and the change
        client.stream(
            "GET", "/api/events", headers={"Authorization": f"Bearer {token}"}
        ) as response,
    ):
        assert TestClient(app).get("/api/events").status_code == 401
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        assert next(lines) == "event: resync"
        assert next(lines) == "data: {}"
        assert next(lines) == ""
        # The SessionService listener the app installed is the hub's.
        assert hub.publish in ctx.sessions.on_change
        # SessionService announces changes on the event loop.
        client.portal.call(hub.publish, uid, "s1", row(uid, SessionStatus.STOPPED))
        assert next(lines) == "event: session"
        assert json.loads(next(lines).removeprefix("data: "))["status"] == "stopped"


@pytest.mark.timeout(60)
def test_the_stream_ends_once_its_token_is_revoked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "HEARTBEAT_SECONDS", 0.2)
    app, _ctx, _uid, token = make_app(tmp_path)
    bearer = {"Authorization": f"Bearer {token}"}
    client = TestClient(app)
    with client.stream("GET", "/api/events", headers=bearer) as response:
        lines = response.iter_lines()
        assert next(lines) == "event: resync"
        assert [next(lines), next(lines)] == ["data: {}", ""]
        assert next(lines) == ": keepalive"  # still signed in: heartbeats
        assert TestClient(app).post("/api/auth/logout", headers=bearer).status_code == 204
        # The next heartbeat finds the token revoked and ends the stream.
        assert [line for line in lines if line and line != ": keepalive"] == []


def read_until_end(lines: Iterator[str]) -> threading.Thread:
    """Drain the stream in a thread; the thread ends when the stream does."""
    reader = threading.Thread(target=lambda: [None for _ in lines], daemon=True)
    reader.start()
    return reader


@pytest.mark.timeout(60)
@pytest.mark.parametrize("change", ["revoke", "disable", "role"])
def test_the_stream_ends_soon_after_a_change_made_in_the_database(
    tmp_path: Path, change: str
) -> None:
    """Another process (oqtoctl, an admin's SQL) revokes the sign-in: the stream must end
    within seconds, not at some later heartbeat."""
    app, ctx, uid, token = make_app(tmp_path)
    ctx.live.interval = 0.1
    with TestClient(app) as client:  # runs the lifespan, which runs the live check
        bearer = {"Authorization": f"Bearer {token}"}
        with client.stream("GET", "/api/events", headers=bearer) as response:
            lines = response.iter_lines()
            assert next(lines) == "event: resync"
            with ctx.db.begin() as db:
                if change == "revoke":
                    db.execute(update(AuthToken).values(revoked_at=utcnow()))
                elif change == "disable":
                    db.execute(update(User).where(User.id == uid).values(disabled=True))
                else:
                    db.execute(update(User).where(User.id == uid).values(role=Role.ADMIN))
            reader = read_until_end(lines)
            reader.join(5)
            assert not reader.is_alive(), f"the stream outlived the {change}"
    assert ctx.live.tracked_count() == 0
