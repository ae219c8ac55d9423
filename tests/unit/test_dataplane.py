"""The data plane through the whole control plane: `oqto serve`'s app under uvicorn, a
browser (httpx) in front of it, and a session whose fake user plane hands out connections
to a real service (uvicorn on a Unix socket), all in one event loop. Every declared proxy
operation is served by the data plane, a sign-in ended through the API refuses the very
next proxied request, and the API's other refusals (CSRF, someone else's session, an
unknown method) still apply."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import os
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.types import Receive, Send
from tests.unit.fake_userplanes import FakeUserPlane
from tests.unit.http_upstreams import (
    LOOPS,
    Seen,
    Service,
    read_body,
    respond,
    run,
    uvicorn_upstream,
)
from tests.unit.session_world import eventually

from oqto.config import load_config
from oqto.control import app as control_app
from oqto.control.app import build_context, create_app
from oqto.control.auth.deps import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE
from oqto.control.auth.tokens import issue_token, token_digest
from oqto.control.context import ControlContext
from oqto.control.proxy.dataplane import METHODS
from oqto.db.models import Role, TokenKind, User
from oqto.protocol.errors import ErrorCode
from oqto.protocol.sessions import ServiceName
from oqto.sockclient import open_verified


@pytest.fixture(params=sorted(LOOPS))
def loop(request: pytest.FixtureRequest) -> str:
    return str(request.param)


PROXY_PATHS = {
    "agent": "/api/sessions/{session_id}/agent/{path}",
    "files": "/api/sessions/{session_id}/files/{path}",
}


class ServingUserPlane(FakeUserPlane):
    """Sessions start at once; each of their services is the one service on `path`."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.connected: list[ServiceName] = []

    async def connect_service(self, session_id: str, service: ServiceName) -> socket.socket:
        assert session_id in self.running
        self.connected.append(service)
        return await open_verified(str(self.path), os.getuid())


async def served(receive: Receive, send: Send, seen: Seen) -> None:
    seen.body = await read_body(receive)
    await respond(send, b'{"served": true}', headers=[(b"x-served-by", b"the-service")])


@dataclass
class Instance:
    ctx: ControlContext
    browser: httpx.AsyncClient
    service: Service
    plane: ServingUserPlane
    tokens: dict[str, str]
    user_ids: dict[str, str]
    session: str

    def as_(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}

    def proxied(self, service: str = "agent", rest: str = "x", session: str | None = None) -> str:
        return f"/api/sessions/{session or self.session}/{service}/{rest}"


def add_user(ctx: ControlContext, name: str, role: Role) -> tuple[str, str]:
    with ctx.db.begin() as db:
        user = User(username=name, password_hash="unused", role=role)
        db.add(user)
        db.flush()
        token, _ = issue_token(db, user, TokenKind.LOGIN, dt.timedelta(hours=1))
        return user.id, token


@contextlib.asynccontextmanager
async def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Instance]:
    service = Service(served)
    plane = ServingUserPlane(tmp_path / "svc.sock")
    monkeypatch.setattr(control_app, "local_userplane", lambda *_a, **_k: plane)
    config = tmp_path / "c.toml"
    config.write_text(
        f'[server]\ndata_dir = "{tmp_path}/data"\n[local]\nsocket_dir = "{tmp_path}/run"\n'
    )
    ctx, backend = build_context(load_config(config, environ={}).config, single_user=True)
    users = {
        name: add_user(ctx, name, role)
        for name, role in (("ann", Role.USER), ("boss", Role.ADMIN), ("bob", Role.USER))
    }
    app = create_app(ctx, backend)
    async with (
        uvicorn_upstream(service, plane.path),
        uvicorn_upstream(app, tmp_path / "oqto.sock", lifespan="on") as front,
        httpx.AsyncClient(
            transport=httpx.AsyncHTTPTransport(uds=str(front)), base_url="http://oqto.example"
        ) as browser,
    ):
        tokens = {name: token for name, (_, token) in users.items()}
        created = await browser.post(
            "/api/sessions",
            json={"workspace": "w"},
            headers={"Authorization": f"Bearer {tokens['ann']}"},
        )
        assert created.status_code == 201, created.text
        session = created.json()["id"]
        await eventually(lambda: session in plane.running)
        yield Instance(
            ctx,
            browser,
            service,
            plane,
            tokens,
            {name: user_id for name, (user_id, _) in users.items()},
            session,
        )


def test_every_declared_proxy_operation_is_served_by_the_data_plane(
    loop: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> None:
        async with instance(tmp_path, monkeypatch) as it:
            spec = await it.browser.get("/api/openapi.json", headers=it.as_("ann"))
            paths = spec.json()["paths"]
            for label, path in PROXY_PATHS.items():
                declared = {m.upper() for m in paths[path]}
                assert declared == set(METHODS), (label, declared)
                for method in sorted(declared):
                    body = b"payload" if method in ("POST", "PUT", "PATCH") else b""
                    before = len(it.service.requests)
                    response = await it.browser.request(
                        method,
                        it.proxied(label, "some/where%2Fx?q=1"),
                        content=body,
                        headers=it.as_("ann"),
                    )
                    where = (method, label)
                    # The service's answer, not the stub's 500 "the data plane is not
                    # installed".
                    assert response.status_code == 200, (where, response.text)
                    assert response.headers["x-served-by"] == "the-service", where
                    if method != "HEAD":
                        assert response.json() == {"served": True}, where
                    assert len(it.service.requests) == before + 1, where
                    seen = it.service.requests[-1]
                    assert (seen.method, seen.target) == (method, b"/some/where%2Fx?q=1"), where
                    assert seen.values("host") == [label] and seen.body == body, where
                    expected = ["Basic b3BlbmNvZGU6cHc="] if label == "agent" else []
                    assert seen.values("authorization") == expected, where

    run(loop, scenario)


SIGN_IN_ENDS = ["logout", "token revoked", "user disabled"]


@pytest.mark.parametrize("how", SIGN_IN_ENDS)
def test_the_next_proxied_request_after_a_sign_in_ends_is_refused(
    loop: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    async def scenario() -> None:
        async with instance(tmp_path, monkeypatch) as it:
            token = it.tokens["ann"]
            if how == "token revoked":
                created = await it.browser.post(
                    "/api/account/tokens", json={"name": "ci"}, headers=it.as_("ann")
                )
                token = created.json()["token"]
            bearer = {"Authorization": f"Bearer {token}"}
            assert (await it.browser.get(it.proxied(), headers=bearer)).status_code == 200
            assert it.ctx.tokens.get(token_digest(token)) is not None  # served from the cache
            if how == "logout":
                ended = await it.browser.post("/api/auth/logout", headers=bearer)
            elif how == "token revoked":
                ended = await it.browser.delete(
                    f"/api/account/tokens/{created.json()['info']['id']}", headers=it.as_("ann")
                )
            else:
                ended = await it.browser.post(
                    f"/api/admin/users/{it.user_ids['ann']}/disable", headers=it.as_("boss")
                )
            assert ended.is_success, ended.text
            seen = len(it.service.requests)
            refused = await it.browser.get(it.proxied(), headers=bearer)
            assert refused.status_code == 401
            assert refused.json()["error"] == ErrorCode.UNAUTHORIZED.value
            assert len(it.service.requests) == seen

    run(loop, scenario)


def test_a_cookie_sign_in_needs_the_csrf_header_to_change_state(
    loop: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> None:
        async with instance(tmp_path, monkeypatch) as it:
            it.browser.cookies.set(SESSION_COOKIE, it.tokens["ann"])
            it.browser.cookies.set(CSRF_COOKIE, "csrf-value")
            assert (await it.browser.get(it.proxied())).status_code == 200
            for service in ("agent", "files"):
                refused = await it.browser.post(it.proxied(service), content=b"x")
                assert refused.status_code == 403
                assert refused.json()["error"] == ErrorCode.CSRF_FAILED.value
                wrong = await it.browser.post(
                    it.proxied(service), content=b"x", headers={CSRF_HEADER: "guess"}
                )
                assert wrong.status_code == 403
            assert [s.method for s in it.service.requests] == ["GET"]
            allowed = await it.browser.post(
                it.proxied(), content=b"x", headers={CSRF_HEADER: "csrf-value"}
            )
            assert allowed.status_code == 200
            # The platform's cookies and the CSRF header stayed behind.
            seen = it.service.requests[-1]
            assert not {"cookie", CSRF_HEADER} & seen.names

    run(loop, scenario)


def test_someone_elses_or_an_unknown_session_is_a_404(
    loop: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> None:
        async with instance(tmp_path, monkeypatch) as it:
            for who, session in (("bob", it.session), ("boss", it.session), ("ann", "nope")):
                for service in ("agent", "files"):
                    response = await it.browser.get(
                        it.proxied(service, session=session), headers=it.as_(who)
                    )
                    assert response.status_code == 404, (who, session, service)
                    assert response.json()["error"] == ErrorCode.NOT_FOUND.value
            assert it.service.requests == [] and it.plane.connected == []
            assert (await it.browser.get(it.proxied(), headers=it.as_("ann"))).status_code == 200

    run(loop, scenario)


def test_a_method_no_operation_has_gets_the_apis_405(
    loop: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> None:
        async with instance(tmp_path, monkeypatch) as it:
            for service in ("agent", "files"):
                response = await it.browser.request(
                    "TRACE", it.proxied(service), headers=it.as_("ann")
                )
                assert response.status_code == 405, response.text
                assert response.json()["error"] == ErrorCode.METHOD_NOT_ALLOWED.value
                assert set(response.headers["allow"].replace(" ", "").split(",")) == set(METHODS)
            assert it.service.requests == []

    run(loop, scenario)


def basic(user: str, password: str) -> dict[str, str]:
    pair = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def test_an_oqto_token_as_basic_password_signs_in_on_the_agent_routes_only(
    loop: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `opencode attach URL -p TOKEN` sends: HTTP Basic with a user name of its own
    and the token as the password. Accepted on the agent's routes (the service gets the
    session's own credential, never the token), refused on files, refused when a browser
    says another site caused the request, and gone with the token."""

    async def scenario() -> None:
        async with instance(tmp_path, monkeypatch) as it:
            token = it.tokens["ann"]
            for user in ("opencode", "anything"):
                answered = await it.browser.get(it.proxied("agent"), headers=basic(user, token))
                assert answered.status_code == 200, answered.text
                seen = it.service.requests[-1]
                assert seen.values("authorization") == ["Basic b3BlbmNvZGU6cHc="]
            posted = await it.browser.post(
                it.proxied("agent", "session"), content=b"{}", headers=basic("opencode", token)
            )
            assert posted.status_code == 200  # no CSRF token: Basic is not ambient here
            before = len(it.service.requests)
            refusals = [
                ("files", basic("opencode", token)),
                ("agent", basic("opencode", "oqto_not-a-token")),
                ("agent", basic("opencode", it.tokens["bob"])),  # not bob's session
                ("agent", {"Authorization": "Basic !!!not base64"}),
                ("agent", {"Authorization": f"Basic {base64.b64encode(token.encode()).decode()}"}),
                ("agent", {**basic("opencode", token), "Sec-Fetch-Site": "cross-site"}),
            ]
            for service, headers in refusals:
                refused = await it.browser.get(it.proxied(service), headers=headers)
                assert refused.status_code in (401, 404), (service, headers, refused.text)
                assert "Basic" not in refused.headers.get("www-authenticate", "")
            assert len(it.service.requests) == before
            same_site = {**basic("opencode", token), "Sec-Fetch-Site": "same-origin"}
            assert (await it.browser.get(it.proxied(), headers=same_site)).status_code == 200
            assert (await it.browser.post("/api/auth/logout", headers=it.as_("ann"))).is_success
            gone = await it.browser.get(it.proxied(), headers=basic("opencode", token))
            assert gone.status_code == 401

    run(loop, scenario)
