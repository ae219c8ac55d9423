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


def test_throttle_blocks_a_name_after_max_failures() -> None:
    throttle = LoginThrottle(max_failures=3, window_seconds=60)
    for _ in range(3):
        assert throttle.retry_after("alice", "10.0.0.1") == 0
        throttle.record_failure("Alice", "10.0.0.1")
    assert throttle.retry_after("alice", "10.0.0.2") > 0  # the name is blocked everywhere
    assert throttle.retry_after("bob", "10.0.0.1") == 0  # the address is not, yet
    throttle.reset("alice")
    assert throttle.retry_after("alice", "10.0.0.1") == 0


def test_throttle_blocks_an_address_after_many_names() -> None:
    throttle = LoginThrottle(max_failures=2, window_seconds=60)
    for i in range(20):
        throttle.record_failure(f"user{i}", "10.0.0.9")
    assert throttle.retry_after("someone-new", "10.0.0.9") > 0
    assert throttle.retry_after("someone-new", "10.0.0.8") == 0


def test_throttle_window_expires() -> None:
    throttle = LoginThrottle(max_failures=1, window_seconds=0.001)
    throttle.record_failure("x", "a")
    import time

    deadline = time.monotonic() + 5
    while throttle.retry_after("x", "a") > 0:
        assert time.monotonic() < deadline
