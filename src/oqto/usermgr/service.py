"""What the usermgr helper does for a request: the Linux-side provisioning steps of
`oqto.provisioning.linux`, plus a short-lived way to undo them."""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from oqto.config.model import OqtoConfig
from oqto.osutil.accounts import lookup
from oqto.protocol.names import NamingError, linux_name_for
from oqto.provisioning.host import HostSettings, LinuxUser
from oqto.provisioning.linux import AccountStep, VerifyRunnerStep, host_settings, linux_steps
from oqto.provisioning.steps import StepEvent, StepFailed, Transaction
from oqto.usermgr.protocol import PingResult, ProvisionResult, RequestError, RollbackResult

log = logging.getLogger(__name__)

ROLLBACK_TTL_SECONDS = 900.0


@dataclass
class _Undo:
    username: str
    expires: float
    transaction: Transaction


class Provisioner:
    def __init__(self, host: HostSettings, rollback_ttl: float = ROLLBACK_TTL_SECONDS) -> None:
        self.host = host
        self._ttl = rollback_ttl
        self._undo: dict[str, _Undo] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config: OqtoConfig, config_path: Path | None) -> Provisioner:
        return cls(host_settings(config, config_path))

    def ping(self) -> PingResult:
        return PingResult(version=version("oqto"), systemd=self.host.launcher.systemd)

    def provision(self, username: str) -> ProvisionResult:
        """Create (or confirm) the Linux side for platform user `username`; blocking."""
        try:
            name = linux_name_for(username, self.host.provisioning.linux_user_prefix)
        except NamingError as exc:
            raise RequestError("invalid_request", str(exc)) from None
        # The API only ever registers new people: binding a registrant to an account that
        # already exists would hand them someone else's home.
        if lookup(name) is not None:
            raise RequestError("account_exists", f"Linux account {name!r} already exists")
        user = LinuxUser(name)

        def progress(event: StepEvent) -> None:
            if event.status != "start":
                log.info(
                    "provision %s: %s: %s",
                    name,
                    event.title,
                    event.status,
                    extra={"seconds": round(event.seconds, 2), "detail": event.detail},
                )

        transaction = Transaction(progress=progress)
        try:
            transaction.run([*linux_steps(user, self.host), VerifyRunnerStep(user, self.host)])
        except StepFailed as exc:
            raise RequestError("provisioning_failed", str(exc)) from None
        account = user.require()
        token = None
        if transaction.applied:
            token = secrets.token_urlsafe(32)
            with self._lock:
                self._expire()
                self._undo[token] = _Undo(username, time.monotonic() + self._ttl, transaction)
        return ProvisionResult(
            linux_user=account.name,
            uid=account.uid,
            gid=account.gid,
            home=str(account.home),
            created=any(isinstance(step, AccountStep) for step in transaction.applied),
            rollback_token=token,
        )

    def rollback(self, username: str, token: str) -> RollbackResult:
        """Undo what one `provision` changed, once, within the TTL, for the same user."""
        with self._lock:
            self._expire()
            found = next(
                (t for t in self._undo if hmac.compare_digest(t.encode(), token.encode())), None
            )
            entry = self._undo.get(found) if found is not None else None
            if found is None or entry is None or entry.username != username:
                raise RequestError("unknown_token", "no provisioning to roll back for that token")
            del self._undo[found]
        errors = entry.transaction.rollback()
        if errors:
            raise RequestError("rollback_failed", "; ".join(errors))
        return RollbackResult(rolled_back=True)

    def forget(self, token: str | None) -> None:
        with self._lock:
            if token is not None:
                self._undo.pop(token, None)

    def _expire(self) -> None:
        now = time.monotonic()
        for token in [t for t, entry in self._undo.items() if entry.expires <= now]:
            del self._undo[token]
