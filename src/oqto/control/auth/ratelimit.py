"""Login throttling: sliding windows of failed logins, per user name and per client address.

An address gets more attempts than a name (`ADDRESS_FACTOR`) because many people can share
one address (NAT, a proxy) while a guessing attack on one account comes from anywhere.
"""

from __future__ import annotations

import threading
import time
from collections import deque

ADDRESS_FACTOR = 10


class LoginThrottle:
    def __init__(self, max_failures: int, window_seconds: float) -> None:
        self._window = window_seconds
        self._limits = {"user": max_failures, "addr": max_failures * ADDRESS_FACTOR}
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        entries = self._failures.setdefault(key, deque())
        while entries and entries[0] <= now - self._window:
            entries.popleft()
        return entries

    @staticmethod
    def _keys(username: str, address: str) -> list[tuple[str, str]]:
        return [("user", username.lower()), ("addr", address)]

    def retry_after(self, username: str, address: str) -> float:
        """Seconds until another attempt is allowed; 0 if allowed now."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key in self._keys(username, address):
                entries = self._recent(key, now)
                if len(entries) >= self._limits[key[0]]:
                    wait = max(wait, entries[0] + self._window - now)
        return wait

    def record_failure(self, username: str, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in self._keys(username, address):
                self._recent(key, now).append(now)

    def reset(self, username: str) -> None:
        with self._lock:
            self._failures.pop(("user", username.lower()), None)
