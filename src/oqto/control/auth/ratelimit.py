"""Throttling password guesses (logins, password changes, registrations).

Two rules, both applied before the password is checked:

- Per (name, client address): `max_failures` free tries, then each further try must wait
  1 s, 2 s, 4 s, ... (capped at the window) after the previous failure. Keying on the pair
  means a stranger guessing someone's password slows down only themselves: the owner,
  from their own address, still signs in. Forgotten after a window of silence.
- Per client address, across all names: at most `max_failures * ADDRESS_FACTOR` failures
  per sliding window, so one address cannot spray many names. An address gets more than a
  name because many people may share it (NAT, a proxy).

An attempt is *reserved* before the (slow) password check and counts as a failure until
it is resolved, so a burst of concurrent guesses gets exactly the free tries, not one per
request that happened to arrive before the first failure was recorded.

IPv6 clients are keyed by their /64: one host usually holds a whole /64.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

ADDRESS_FACTOR = 10
BASE_DELAY_SECONDS = 1.0
# While another try of the same key is being checked (well under a second), callers are
# told to come back after this long.
IN_FLIGHT_RETRY_SECONDS = 1.0
PRUNE_EVERY = 256


class Throttled(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after:.1f} s")
        self.retry_after = retry_after

    @property
    def retry_after_header(self) -> str:
        return str(max(1, int(self.retry_after + 0.999)))


@dataclass
class _Pair:
    failures: int = 0
    pending: int = 0
    next_allowed: float = 0.0
    last_failure: float = 0.0


@dataclass
class _Address:
    failures: deque[float] = field(default_factory=deque)
    pending: int = 0


def address_key(address: str) -> str:
    """What identifies a client: the IPv4 address, or the /64 of an IPv6 address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class Attempt:
    """One reserved try. Resolve it with `failed()` or `succeeded()`; an attempt left
    unresolved (the check could not be made) is released without counting."""

    def __init__(self, throttle: LoginThrottle, pair: tuple[str, str], address: str) -> None:
        self._throttle = throttle
        self._pair = pair
        self._address = address
        self.resolved = False

    def failed(self) -> None:
        self._throttle._resolve(self, self._pair, self._address, "failed")

    def succeeded(self) -> None:
        self._throttle._resolve(self, self._pair, self._address, "succeeded")

    def release(self) -> None:
        self._throttle._resolve(self, self._pair, self._address, "released")


class LoginThrottle:
    def __init__(
        self,
        max_failures: int,
        window_seconds: float,
        *,
        address_factor: int = ADDRESS_FACTOR,
        base_delay: float = BASE_DELAY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self.address_budget = max_failures * address_factor
        self._base_delay = base_delay
        self._clock = clock
        self._pairs: dict[tuple[str, str], _Pair] = {}
        self._addresses: dict[str, _Address] = {}
        self._lock = threading.Lock()
        self._since_prune = 0

    # -- reserving -------------------------------------------------------------------------

    def reserve(self, name: str, address: str) -> Attempt:
        """Reserve one try of `name` from `address`, or raise `Throttled`."""
        addr = address_key(address)
        key = (name.lower(), addr)
        now = self._clock()
        with self._lock:
            self._maybe_prune(now)
            pair = self._pair(key, now)
            slot = self._address(addr, now)
            wait = max(self._pair_wait(pair, now), self._address_wait(slot, now))
            if wait > 0:
                raise Throttled(wait)
            pair.pending += 1
            slot.pending += 1
        return Attempt(self, key, addr)

    def _pair_wait(self, pair: _Pair, now: float) -> float:
        if pair.failures + pair.pending < self.max_failures:
            return 0.0
        if pair.pending:
            return IN_FLIGHT_RETRY_SECONDS
        if pair.failures < self.max_failures:
            return 0.0
        return max(0.0, pair.next_allowed - now)

    def _address_wait(self, slot: _Address, now: float) -> float:
        if len(slot.failures) + slot.pending < self.address_budget:
            return 0.0
        if slot.failures:
            return max(IN_FLIGHT_RETRY_SECONDS, slot.failures[0] + self.window - now)
        return IN_FLIGHT_RETRY_SECONDS

    # -- resolving -------------------------------------------------------------------------

    def _resolve(self, attempt: Attempt, key: tuple[str, str], addr: str, outcome: str) -> None:
        now = self._clock()
        with self._lock:
            if attempt.resolved:
                return
            attempt.resolved = True
            pair = self._pairs.setdefault(key, _Pair())
            slot = self._addresses.setdefault(addr, _Address())
            pair.pending = max(0, pair.pending - 1)
            slot.pending = max(0, slot.pending - 1)
            if outcome == "failed":
                pair.failures += 1
                pair.last_failure = now
                if pair.failures >= self.max_failures:
                    extra = pair.failures - self.max_failures
                    delay = min(self._base_delay * 2.0 ** min(extra, 62), self.window)
                    pair.next_allowed = now + delay
                slot.failures.append(now)
            elif outcome == "succeeded":
                # The address keeps its failures: signing in to one's own account must
                # not refill the budget for guessing others.
                pair.failures = 0
                pair.next_allowed = 0.0

    # -- bookkeeping -----------------------------------------------------------------------

    def _pair(self, key: tuple[str, str], now: float) -> _Pair:
        pair = self._pairs.get(key)
        if pair is not None and self._pair_stale(pair, now):
            pair = None
        if pair is None:
            pair = self._pairs[key] = _Pair()
        return pair

    def _pair_stale(self, pair: _Pair, now: float) -> bool:
        # Silent for a whole window after it was allowed to try again: a fresh start.
        quiet_since = max(pair.next_allowed, pair.last_failure)
        return pair.pending == 0 and (pair.failures == 0 or now > quiet_since + self.window)

    def _address(self, addr: str, now: float) -> _Address:
        slot = self._addresses.setdefault(addr, _Address())
        while slot.failures and slot.failures[0] <= now - self.window:
            slot.failures.popleft()
        return slot

    def _maybe_prune(self, now: float) -> None:
        """Drop forgotten entries now and then, so memory follows the active guessers."""
        self._since_prune += 1
        if self._since_prune < PRUNE_EVERY:
            return
        self._since_prune = 0
        for key in [k for k, p in self._pairs.items() if self._pair_stale(p, now)]:
            del self._pairs[key]
        for addr in list(self._addresses):
            slot = self._address(addr, now)
            if not slot.failures and not slot.pending:
                del self._addresses[addr]

    def entries(self) -> int:
        """How many keys are remembered (for tests of the pruning)."""
        with self._lock:
            return len(self._pairs) + len(self._addresses)
