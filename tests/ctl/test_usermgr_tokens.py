"""Rollback tokens: single use, bound to one user name, and gone after their TTL."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from oqto.config.model import ProvisioningSection
from oqto.provisioning.host import HostSettings
from oqto.provisioning.launchers import ProcessLauncher
from oqto.provisioning.steps import Transaction
from oqto.usermgr.protocol import RequestError
from oqto.usermgr.service import Provisioner, _Undo


class Recorder:
    title = "recorded"

    def __init__(self) -> None:
        self.undone = 0

    def apply(self) -> bool:
        return True

    def undo(self) -> None:
        self.undone += 1


def provisioner(ttl: float) -> tuple[Provisioner, Recorder]:
    host = HostSettings(
        ProvisioningSection(), "/run/user/{uid}/x.sock", "oqto", Path("/c"), ProcessLauncher()
    )
    p = Provisioner(host, rollback_ttl=ttl)
    step = Recorder()
    transaction = Transaction()
    transaction.run([step])
    p._undo["T" * 43] = _Undo("alice", time.monotonic() + ttl, transaction)
    return p, step


def test_token_is_single_use_and_bound_to_the_user() -> None:
    p, step = provisioner(60)
    with pytest.raises(RequestError):
        p.rollback("bob", "T" * 43)
    assert p.rollback("alice", "T" * 43).rolled_back and step.undone == 1
    with pytest.raises(RequestError):
        p.rollback("alice", "T" * 43)
    assert step.undone == 1


def test_token_expires() -> None:
    p, step = provisioner(0.01)
    time.sleep(0.05)
    with pytest.raises(RequestError) as info:
        p.rollback("alice", "T" * 43)
    assert info.value.code == "unknown_token" and step.undone == 0
