"""The data plane's sign-in cache: `TokenCache` on its own (hits, expiry, the size bound,
drops and the generation guard that keeps a lookup racing a drop from re-inserting what
was dropped), and `authenticate_cached` over a real database (a miss reads it once, a hit
not at all, a refusal is not cached)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from starlette.requests import HTTPConnection

from oqto.config import load_config
from oqto.control.app import build_context, create_app
from oqto.control.auth import deps
from oqto.control.auth.cache import SignIn, TokenCache
from oqto.control.auth.deps import Principal, authenticate_cached
from oqto.control.auth.tokens import issue_token, token_digest
from oqto.control.context import ControlContext
from oqto.control.errors import ApiError
from oqto.db.models import AuthToken, Role, TokenKind, User, utcnow
from oqto.protocol.errors import ErrorCode

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def sign_in(
    token_id: str,
    user_id: str = "u1",
    role: Role = Role.USER,
    expires_at: dt.datetime | None = None,
) -> SignIn:
    user = User(id=user_id, username=f"user-{user_id}", password_hash="x", role=role)
    return user, AuthToken(id=token_id, user_id=user_id, token_hash="h", expires_at=expires_at)


def cached(cache: TokenCache, *entries: tuple[str, SignIn]) -> TokenCache:
    for digest, entry in entries:
        cache.put(digest, entry, cache.begin())
    return cache


def test_a_miss_then_a_hit() -> None:
    cache = TokenCache()
    entry = sign_in("t1")
    assert cache.get("d1") is None
    cache.put("d1", entry, cache.begin())
    assert cache.get("d1") is entry
    assert cache.get("d2") is None
    cache.put("d1", entry, cache.begin())
    assert len(cache) == 1


def test_an_expired_sign_in_is_dropped_when_it_is_looked_up() -> None:
    later = NOW + dt.timedelta(hours=1)
    cache = cached(
        TokenCache(),
        ("short", sign_in("t1", expires_at=later)),
        ("forever", sign_in("t2", expires_at=None)),
    )
    assert cache.get("short", now=NOW) is not None
    assert cache.get("short", now=later) is None
    assert len(cache) == 1  # gone, not just hidden
    assert cache.get("short", now=NOW) is None
    assert cache.get("forever", now=later + dt.timedelta(days=3650)) is not None


def test_expiry_defaults_to_the_current_time() -> None:
    past = utcnow() - dt.timedelta(seconds=1)
    cache = cached(TokenCache(), ("d", sign_in("t", expires_at=past)))
    assert cache.get("d") is None


def test_the_least_recently_used_goes_first_past_the_bound() -> None:
    cache = cached(TokenCache(max_entries=3), *((f"d{i}", sign_in(f"t{i}")) for i in range(3)))
    assert cache.get("d0") is not None  # used: d1 is now the oldest
    cache.put("d3", sign_in("t3"), cache.begin())
    assert len(cache) == 3
    assert cache.get("d1") is None
    assert all(cache.get(d) is not None for d in ("d0", "d2", "d3"))
    cache.put("d2", sign_in("t2"), cache.begin())  # re-put: d0 is the oldest now
    cache.put("d4", sign_in("t4"), cache.begin())
    assert cache.get("d0") is None and len(cache) == 3


def test_drop_token_drop_user_and_drop_tokens() -> None:
    cache = cached(
        TokenCache(),
        ("a1", sign_in("ta1", "ann")),
        ("a2", sign_in("ta2", "ann")),
        ("b1", sign_in("tb1", "bob")),
        ("c1", sign_in("tc1", "cy")),
    )
    cache.drop_token("ta1")
    assert cache.get("a1") is None and cache.get("a2") is not None
    cache.drop_user("ann")
    assert cache.get("a2") is None
    cache.drop_tokens(t for t in ("tb1", "nope"))
    assert cache.get("b1") is None
    assert cache.get("c1") is not None and len(cache) == 1
    cache.drop_token("unknown")
    cache.drop_user("unknown")
    assert len(cache) == 1


def test_a_put_read_before_a_drop_is_refused() -> None:
    """A lookup read the database, then the token was revoked (and dropped), then the
    lookup finished: what it read must not come back."""
    cache = TokenCache()
    entry = sign_in("t1")
    generation = cache.begin()
    cache.drop_token("t1")  # nothing cached yet; the revocation still counts
    cache.put("d1", entry, generation)
    assert cache.get("d1") is None and len(cache) == 0
    cache.put("d1", entry, cache.begin())  # a lookup started after the drop
    assert cache.get("d1") is entry
    for drop in (lambda: cache.drop_user("someone"), lambda: cache.drop_tokens(["x"])):
        generation = cache.begin()
        drop()
        cache.put("d2", sign_in("t2"), generation)
        assert cache.get("d2") is None


def test_dropping_nothing_refuses_no_put() -> None:
    """The periodic check drops what it found invalid, usually nothing: lookups in flight
    meanwhile are still cached."""
    cache = TokenCache()
    generation = cache.begin()
    cache.drop_tokens(iter(()))
    cache.put("d1", sign_in("t1"), generation)
    assert cache.get("d1") is not None


def test_roles_are_those_read_with_each_token() -> None:
    cache = cached(
        TokenCache(),
        ("a", sign_in("ta", "ann", Role.USER)),
        ("b", sign_in("tb", "boss", Role.ADMIN)),
    )
    assert cache.roles() == {"ta": Role.USER, "tb": Role.ADMIN}
    cache.drop_user("boss")
    assert cache.roles() == {"ta": Role.USER}


# -- authenticate_cached over a real database ---------------------------------------------


@pytest.fixture
def app(tmp_path: Path) -> Iterator[FastAPI]:
    config = tmp_path / "c.toml"
    config.write_text(
        f'[server]\ndata_dir = "{tmp_path}/data"\n[local]\nsocket_dir = "{tmp_path}/run"\n'
    )
    ctx, backend = build_context(load_config(config, environ={}).config, single_user=True)
    yield create_app(ctx, backend)


def ctx_of(app: FastAPI) -> ControlContext:
    ctx = app.state.ctx
    assert isinstance(ctx, ControlContext)
    return ctx


def issue(ctx: ControlContext, username: str = "ann") -> tuple[str, str]:
    """A new user's login token and its id."""
    with ctx.db.begin() as db:
        user = User(username=username, password_hash="x", role=Role.USER)
        db.add(user)
        db.flush()
        token, row = issue_token(db, user, TokenKind.LOGIN, dt.timedelta(hours=1))
        db.flush()
        return token, row.id


def connection(app: FastAPI, headers: dict[str, str]) -> HTTPConnection:
    return HTTPConnection(
        {
            "type": "http",
            "app": app,
            "method": "GET",
            "path": "/api/sessions/s/agent/x",
            "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
        }
    )


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every database lookup `authenticate_cached` makes, by digest."""
    seen: list[str] = []
    real = deps.resolve_digest

    def counting(db, digest):  # type: ignore[no-untyped-def]
        seen.append(digest)
        return real(db, digest)

    monkeypatch.setattr(deps, "resolve_digest", counting)
    return seen


def authenticate(app: FastAPI, headers: dict[str, str]) -> Principal:
    return asyncio.run(authenticate_cached(connection(app, headers)))


def test_a_miss_reads_the_database_once_and_a_hit_not_at_all(
    app: FastAPI, reads: list[str]
) -> None:
    ctx = ctx_of(app)
    token, token_id = issue(ctx)
    first = authenticate(app, {"authorization": f"Bearer {token}"})
    assert first.token.id == token_id and first.user.username == "ann"
    assert not first.via_cookie
    assert reads == [token_digest(token)] and len(ctx.tokens) == 1
    again = authenticate(app, {"cookie": f"{deps.SESSION_COOKIE}={token}"})
    assert again.token.id == token_id and again.via_cookie
    assert len(reads) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"authorization": "Bearer not-an-oqto-token"},
        {"authorization": "Bearer oqto_" + "x" * 300},
        {"authorization": "Basic b3BlbmNvZGU6cHc="},
    ],
)
def test_no_or_a_malformed_credential_is_refused_without_a_read(
    app: FastAPI, reads: list[str], headers: dict[str, str]
) -> None:
    with pytest.raises(ApiError) as refused:
        authenticate(app, headers)
    assert refused.value.code is ErrorCode.UNAUTHORIZED
    assert reads == [] and len(ctx_of(app).tokens) == 0


def test_an_unknown_token_is_refused_and_not_cached(app: FastAPI, reads: list[str]) -> None:
    for _ in range(2):
        with pytest.raises(ApiError):
            authenticate(app, {"authorization": "Bearer oqto_unknown"})
    assert len(reads) == 2 and len(ctx_of(app).tokens) == 0


def test_a_revocation_during_the_read_keeps_the_sign_in_out(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = ctx_of(app)
    token, token_id = issue(ctx)
    real = deps.resolve_digest

    def racing(db, digest):  # type: ignore[no-untyped-def]
        found = real(db, digest)
        ctx.live.end_token(token_id)  # the logout lands between the read and the put
        return found

    monkeypatch.setattr(deps, "resolve_digest", racing)
    authenticate(app, {"authorization": f"Bearer {token}"})
    assert len(ctx.tokens) == 0
