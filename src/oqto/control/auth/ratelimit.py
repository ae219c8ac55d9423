"""Login throttling: a sliding window of failures per user name and per client address."""

from __future__ import annotations

import threading
import time
from collections import deque


class LoginThrottle:
    def __init__(self, max_failures: int, window_seconds: float) -> None:
        self._max = max_failures
        self._window = window_seconds
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        entries = self._failures.setdefault(key, deque())
        while entries and entries[0] <= now - self._window:
            entries.popleft()
        return entries

    def retry_after(self, *keys: str) -> float:
        """Seconds until another attempt is allowed for any of `keys`; 0 if allowed now."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key in keys:
                entries = self._recent(key, now)
                if len(entries) >= self._max:
                    wait = max(wait, entries[0] + self._window - now)
        return wait

    def record_failure(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def reset(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
