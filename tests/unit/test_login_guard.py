"""The login throttle and the bound on password checks, attacked through the real app
in-process (each client address its own ASGI transport)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from oqto.config import load_config
from oqto.control.app import build_context, create_app
from oqto.control.auth import passwords
from oqto.control.auth.passwords import hash_password
from oqto.db.models import Role, User

PASSWORD = "boss-password-1"


def make_app(tmp_path: Path, extra: str = "") -> FastAPI:
    config = tmp_path / "c.toml"
    config.write_text(
        f'[server]\ndata_dir = "{tmp_path}/data"\n{extra}\n[local]\nsocket_dir = "{tmp_path}/run"\n'
    )
    ctx, backend = build_context(load_config(config, environ={}).config, single_user=True)
    with ctx.db.begin() as db:
        db.add(User(username="boss", password_hash=hash_password(PASSWORD), role=Role.ADMIN))
    return create_app(ctx, backend)


def client(app: FastAPI, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(address, 40000)),
        base_url="http://oqto.test",
    )


async def login(
    app: FastAPI, address: str, password: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    async with client(app, address) as c:
        return await c.post(
            "/api/auth/login",
            json={"username": "boss", "password": password},
            headers=headers or {},
        )


def run(coro: Callable[[], Any]) -> Any:
    return asyncio.run(coro())


def test_a_burst_of_concurrent_guesses_gets_only_the_free_tries(tmp_path: Path) -> None:
    """The finding: concurrent guesses got ~40 tries per burst instead of 5."""
    app = make_app(tmp_path)

    async def burst() -> list[httpx.Response]:
        return list(
            await asyncio.gather(*(login(app, "203.0.113.9", f"guess-{i}") for i in range(20)))
        )

    responses = run(burst)
    statuses = [r.status_code for r in responses]
    assert statuses.count(401) == 5, statuses
    assert statuses.count(429) == 15, statuses
    assert all(int(r.headers["retry-after"]) >= 1 for r in responses if r.status_code == 429)


def test_a_stranger_guessing_does_not_lock_out_the_owner(tmp_path: Path) -> None:
    """The finding: five bad logins from anywhere locked the admin out for 5 minutes."""
    app = make_app(tmp_path)

    async def scenario() -> tuple[list[int], int]:
        guesses = [(await login(app, "203.0.113.9", "wrong-pass")).status_code for _ in range(6)]
        owner = await login(app, "10.0.0.1", PASSWORD)
        return guesses, owner.status_code

    guesses, owner = run(scenario)
    assert guesses == [401] * 5 + [429]
    assert owner == 200


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(tmp_path: Path) -> None:
    app = make_app(tmp_path, 'trusted_proxies = ["10.0.0.0/8"]')

    async def scenario() -> dict[str, list[int]]:
        seen: dict[str, list[int]] = {"direct": [], "spoofed": [], "via_proxy": []}
        # Not a proxy: whatever it writes in X-Forwarded-For, it stays one client.
        for i in range(6):
            r = await login(app, "192.0.2.50", "wrong", {"X-Forwarded-For": f"198.18.0.{i}"})
            seen["direct"].append(r.status_code)
        # Through the proxy: addresses the client prepends are not believed either.
        for i in range(6):
            forwarded = f"198.18.1.{i}, 203.0.113.9"
            r = await login(app, "10.1.1.1", "wrong", {"X-Forwarded-For": forwarded})
            seen["spoofed"].append(r.status_code)
        # The proxy relays the real owner from elsewhere: not throttled.
        r = await login(app, "10.1.1.1", PASSWORD, {"X-Forwarded-For": "198.51.100.7"})
        seen["via_proxy"].append(r.status_code)
        return seen

    seen = run(scenario)
    assert seen["direct"] == [401] * 5 + [429]
    assert seen["spoofed"] == [401] * 5 + [429]
    assert seen["via_proxy"] == [200]


class CountingHasher:
    """Passes through to argon2 and records how many checks ran at once."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0

    def verify(self, password_hash: str, password: str) -> bool:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            return bool(self.real.verify(password_hash, password))
        finally:
            with self.lock:
                self.now -= 1

    def hash(self, password: str) -> str:
        return str(self.real.hash(password))


def test_concurrent_password_checks_are_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The finding: 40 concurrent logins ran 40 argon2 checks (64 MiB each) at once."""
    app = make_app(tmp_path)
    counting = CountingHasher(passwords._hasher)
    monkeypatch.setattr(passwords, "_hasher", counting)

    async def flood() -> list[httpx.Response]:
        # Forty addresses, so the throttle lets every one of them try.
        return list(
            await asyncio.gather(*(login(app, f"198.18.2.{i}", "wrong") for i in range(40)))
        )

    responses = run(flood)
    statuses = {r.status_code for r in responses}
    assert statuses <= {401, 503}, statuses
    assert 1 <= counting.most <= 2, counting.most
    for response in responses:
        if response.status_code == 503:
            assert response.json()["error"] == "busy"
            assert response.headers["retry-after"] == "1"
    # Someone refused as busy was not counted as a failure: they may try again at once.
    assert (asyncio.run(login(app, "10.0.0.1", PASSWORD))).status_code == 200
