"""Sign-ins known to be valid, kept in memory so a proxied request costs no database read.

The data plane (every request to a session's services) looks its token up here first and
reads the database only on a miss. An entry is dropped

- at once, when this process revokes a token, disables or deletes a user or signs them
  out everywhere: `LiveConnections.end_token` / `end_user` call `drop_token` / `drop_user`,
  so the very next request is refused;
- at its expiry time, checked on every hit;
- within `LiveConnections.interval` seconds, when another process (`oqtoctl user disable`,
  an admin editing the database) makes it invalid: each check round re-reads every cached
  token in one query, as it does for open streams.

A lookup that raced an invalidation must not re-insert what was just dropped: `put` takes
the generation `begin` returned before the database read and refuses a stale one. Only
valid sign-ins are cached, and the table is bounded (least recently used out first), so
no flood of tokens can make it large.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable

from oqto.db.models import AuthToken, Role, User, utcnow

SignIn = tuple[User, AuthToken]

MAX_ENTRIES = 10_000


class TokenCache:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._max = max_entries
        # Dropping happens on worker threads too (sync API routes); lookups on the loop.
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, SignIn] = OrderedDict()
        self._generation = 0

    def get(self, digest: str, now: dt.datetime | None = None) -> SignIn | None:
        with self._lock:
            found = self._entries.get(digest)
            if found is None:
                return None
            expires = found[1].expires_at
            if expires is not None and expires <= (now or utcnow()):
                del self._entries[digest]
                return None
            self._entries.move_to_end(digest)
            return found

    def begin(self) -> int:
        """The generation to hand to `put` after reading the database."""
        with self._lock:
            return self._generation

    def put(self, digest: str, sign_in: SignIn, generation: int) -> None:
        with self._lock:
            if generation != self._generation:
                return
            self._entries[digest] = sign_in
            self._entries.move_to_end(digest)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def drop_token(self, token_id: str) -> None:
        self._drop(lambda user, token: token.id == token_id)

    def drop_user(self, user_id: str) -> None:
        self._drop(lambda user, token: user.id == user_id)

    def drop_tokens(self, token_ids: Iterable[str]) -> None:
        ids = set(token_ids)
        if ids:
            self._drop(lambda user, token: token.id in ids)

    def roles(self) -> dict[str, Role]:
        """Each cached token's id and the role its user had when it was read."""
        with self._lock:
            return {token.id: user.role for user, token in self._entries.values()}

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _drop(self, matches: Callable[[User, AuthToken], bool]) -> None:
        with self._lock:
            self._generation += 1
            for digest in [d for d, (u, t) in self._entries.items() if matches(u, t)]:
                del self._entries[digest]
