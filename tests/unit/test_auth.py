import datetime as dt
from pathlib import Path

import pytest

from oqto.control.auth.passwords import hash_password, verify_password
from oqto.control.auth.ratelimit import LoginThrottle
from oqto.control.auth.tokens import issue_token, resolve_token, revoke_token
from oqto.control.db.engine import make_engine, make_sessionmaker, migrate, sqlite_url
from oqto.control.db.models import Role, TokenKind, User


@pytest.fixture
def db(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(sqlite_url(tmp_path / "t.db"))
    migrate(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


def test_password_hashing() -> None:
    hashed = hash_password("correct horse")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "correct horse")
    assert not verify_password(hashed, "wrong")
    assert not verify_password(None, "anything")
    assert not verify_password("garbage", "x")


def test_token_lifecycle(db) -> None:  # type: ignore[no-untyped-def]
    with db.begin() as s:
        user = User(username="u", password_hash=hash_password("pw123456"), role=Role.USER)
        s.add(user)
        s.flush()
        token, row = issue_token(s, user, TokenKind.LOGIN, dt.timedelta(hours=1))
        assert row.token_hash != token and token not in row.token_hash
    with db() as s:
        found = resolve_token(s, token)
        assert found is not None and found[0].username == "u"
        assert resolve_token(s, token + "x") is None
        assert resolve_token(s, "not-a-token") is None
    with db.begin() as s:
        revoke_token(s, row.id)
    with db() as s:
        assert resolve_token(s, token) is None


def test_expired_and_disabled_tokens_fail(db) -> None:  # type: ignore[no-untyped-def]
    with db.begin() as s:
        user = User(username="v", password_hash="x", role=Role.USER)
        s.add(user)
        s.flush()
        expired, _ = issue_token(s, user, TokenKind.LOGIN, dt.timedelta(seconds=-1))
        live, _ = issue_token(s, user, TokenKind.API, None)
    with db() as s:
        assert resolve_token(s, expired) is None
        assert resolve_token(s, live) is not None
    with db.begin() as s:
        s.get(User, user.id).disabled = True  # type: ignore[union-attr]
    with db() as s:
        assert resolve_token(s, live) is None


def test_throttle_blocks_after_max_failures() -> None:
    throttle = LoginThrottle(max_failures=3, window_seconds=60)
    for _ in range(3):
        assert throttle.retry_after("user:a") == 0
        throttle.record_failure("user:a", "addr:1")
    assert throttle.retry_after("user:a") > 0
    assert throttle.retry_after("addr:1") > 0
    assert throttle.retry_after("user:b") == 0
    throttle.reset("user:a")
    assert throttle.retry_after("user:a") == 0
