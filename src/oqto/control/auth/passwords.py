"""Argon2id password hashing, and the gate that bounds how many hashes run at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified when the user does not exist, so a login for an unknown name costs the same
# time as one for a known name and does not reveal which names exist.
_DUMMY_HASH = _hasher.hash("oqto-timing-equaliser")

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"password must have at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"password must have at most {MAX_PASSWORD_LENGTH} characters"
    return None


class PasswordChecksBusy(Exception):
    """Too many password checks are running or waiting: come back in a moment."""

    retry_after = 1


class PasswordGate:
    """At most `limit` argon2 computations at once: each costs 64 MiB and most of a core,
    so forty concurrent logins would otherwise cost gigabytes. A few callers (`queue`) may
    wait up to `wait_seconds` for a slot; anyone beyond that is refused at once instead of
    piling up (and holding a worker thread each)."""

    def __init__(self, limit: int, queue: int | None = None, wait_seconds: float = 5.0) -> None:
        self.limit = limit
        self._slots = threading.BoundedSemaphore(limit)
        self._max_waiting = 4 * limit if queue is None else queue
        self._wait_seconds = wait_seconds
        self._waiting = 0
        self._lock = threading.Lock()

    @contextmanager
    def slot(self) -> Iterator[None]:
        if not self._slots.acquire(blocking=False):
            with self._lock:
                if self._waiting >= self._max_waiting:
                    raise PasswordChecksBusy
                self._waiting += 1
            try:
                acquired = self._slots.acquire(timeout=self._wait_seconds)
            finally:
                with self._lock:
                    self._waiting -= 1
            if not acquired:
                raise PasswordChecksBusy
        try:
            yield
        finally:
            self._slots.release()

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Blocking. `password_hash=None` (no such user) costs the same as a real check."""
        with self.slot():
            return verify_password(password_hash, password)

    def hash(self, password: str) -> str:
        """Blocking."""
        with self.slot():
            return hash_password(password)
