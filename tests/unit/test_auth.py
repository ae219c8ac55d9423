import datetime as dt
import threading
from pathlib import Path

import pytest
from argon2 import extract_parameters
from tests.support.server import wait_for

from oqto.control.auth import passwords
from oqto.control.auth.passwords import (
    PasswordChecksBusy,
    PasswordGate,
    hash_password,
    verify_password,
)
from oqto.control.auth.ratelimit import PRUNE_EVERY, LoginThrottle, Throttled, address_key
from oqto.control.auth.tokens import issue_token, resolve_token, revoke_token
from oqto.db.engine import make_engine, make_sessionmaker, migrate, sqlite_url
from oqto.db.models import Role, TokenKind, User


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


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fail(throttle: LoginThrottle, name: str, address: str) -> None:
    throttle.reserve(name, address).failed()


def retry_after(throttle: LoginThrottle, name: str, address: str) -> float:
    """0 if a try would be allowed now (the probe itself does not count)."""
    try:
        throttle.reserve(name, address).release()
    except Throttled as exc:
        return exc.retry_after
    return 0.0


def test_a_guesser_slows_down_exponentially_after_the_free_tries() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(max_failures=3, window_seconds=300, clock=clock)
    for _ in range(3):
        fail(throttle, "Alice", "10.0.0.1")
    waits = []
    for _ in range(4):
        waits.append(retry_after(throttle, "alice", "10.0.0.1"))
        clock.now += waits[-1]
        fail(throttle, "alice", "10.0.0.1")
    assert waits == [1.0, 2.0, 4.0, 8.0]
    # Capped at the window.
    for _ in range(12):
        clock.now += retry_after(throttle, "alice", "10.0.0.1")
        fail(throttle, "alice", "10.0.0.1")
    assert retry_after(throttle, "alice", "10.0.0.1") == 300


def test_a_stranger_cannot_lock_the_owner_out() -> None:
    """The finding: five bad logins from anywhere locked any account for everybody."""
    throttle = LoginThrottle(max_failures=3, window_seconds=300, clock=FakeClock())
    for _ in range(3):
        fail(throttle, "admin", "203.0.113.9")
    assert retry_after(throttle, "admin", "203.0.113.9") > 0
    assert retry_after(throttle, "admin", "10.0.0.1") == 0
    throttle.reserve("admin", "10.0.0.1").succeeded()


def test_concurrent_tries_are_reserved_before_the_check() -> None:
    """The finding: a burst of concurrent guesses got ~40 tries instead of 5."""
    throttle = LoginThrottle(max_failures=3, window_seconds=300, clock=FakeClock())
    held = [throttle.reserve("bob", "10.0.0.2") for _ in range(3)]
    with pytest.raises(Throttled):
        throttle.reserve("bob", "10.0.0.2")
    # A try that could not be checked (an error) is given back, not counted.
    held.pop().release()
    held.append(throttle.reserve("bob", "10.0.0.2"))
    for attempt in held:
        attempt.failed()
    assert retry_after(throttle, "bob", "10.0.0.2") == 1.0


def test_success_clears_the_pair_but_not_the_address_budget() -> None:
    throttle = LoginThrottle(max_failures=2, window_seconds=300, clock=FakeClock())
    for i in range(18):
        fail(throttle, f"user{i}", "10.0.0.9")
    fail(throttle, "me", "10.0.0.9")
    throttle.reserve("me", "10.0.0.9").succeeded()
    fail(throttle, "user18", "10.0.0.9")
    # 20 failures from one address across names: its budget (2 x 10) is spent for any name.
    assert retry_after(throttle, "someone-new", "10.0.0.9") > 0
    assert retry_after(throttle, "someone-new", "10.0.0.8") == 0


def test_the_address_budget_and_the_pairs_are_forgotten_in_time() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(max_failures=1, window_seconds=60, clock=clock)
    fail(throttle, "x", "a")
    assert retry_after(throttle, "x", "a") == 1.0
    clock.now += 1.0
    fail(throttle, "x", "a")
    assert retry_after(throttle, "x", "a") == 2.0
    # A window of silence after the last allowed moment: a fresh start.
    clock.now += 2.0 + 60.1
    fail(throttle, "x", "a")
    assert retry_after(throttle, "x", "a") == 1.0


def test_ipv6_clients_are_one_client_per_64() -> None:
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::2")
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:10.0.0.1") == "10.0.0.1"
    throttle = LoginThrottle(max_failures=1, window_seconds=60, clock=FakeClock())
    fail(throttle, "x", "2001:db8:1:2::1")
    assert retry_after(throttle, "x", "2001:db8:1:2::ffff") > 0


def test_forgotten_entries_are_pruned() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(max_failures=5, window_seconds=10, clock=clock)
    for i in range(PRUNE_EVERY):
        fail(throttle, f"n{i}", f"10.1.{i // 250}.{i % 250}")
    assert throttle.entries() >= PRUNE_EVERY
    clock.now += 100
    for _ in range(PRUNE_EVERY):
        throttle.reserve("again", "10.9.9.9").succeeded()
    assert throttle.entries() <= 2


def test_password_gate_bounds_concurrent_checks_and_refuses_beyond_its_queue() -> None:
    gate = PasswordGate(limit=1, queue=1, wait_seconds=30)
    inside, release = threading.Event(), threading.Event()
    results: list[str] = []

    def holder() -> None:
        with gate.slot():
            inside.set()
            release.wait(30)

    def waiter() -> None:
        with gate.slot():
            results.append("waited")

    first = threading.Thread(target=holder)
    first.start()
    assert inside.wait(10)
    second = threading.Thread(target=waiter)
    second.start()
    wait_for(lambda: gate._waiting == 1, 10, "the second caller to queue")
    with pytest.raises(PasswordChecksBusy), gate.slot():
        pass
    release.set()
    first.join(10)
    second.join(10)
    assert results == ["waited"]


def test_an_unknown_user_costs_a_real_argon2_check() -> None:
    """No timing oracle for which names exist: the dummy hash has the same parameters."""
    assert extract_parameters(passwords._DUMMY_HASH) == extract_parameters(hash_password("x"))
    assert not verify_password(None, "oqto-timing-equaliser")
