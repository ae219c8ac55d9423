"""The usermgr helper on a real socket: who may connect, what it refuses, and that what it
provisions can be (and, when nobody claims it, is) undone."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.ctl.support import PREFIX, Install, unique_name
from tests.ctl.usermgr_support import ask_as, running_server
from tests.support.server import wait_for

from oqto.osutil.accounts import lookup
from oqto.provisioning import runner
from oqto.usermgr.server import UsermgrServer


@pytest.fixture
def sock(install: Install) -> Path:
    return install.root / "usermgr" / "usermgr.sock"


@pytest.fixture
def server(install: Install, sock: Path) -> Iterator[UsermgrServer]:
    with running_server(
        install.config, sock, install.service.uid, install.service.gid, read_timeout=1.0
    ) as srv:
        yield srv


def test_socket_is_root_owned_for_the_service_group(
    install: Install, sock: Path, server: UsermgrServer
) -> None:
    st = sock.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (0, install.service.gid, 0o660)
    parent = sock.parent.stat()
    assert (parent.st_uid, parent.st_gid, stat.S_IMODE(parent.st_mode)) == (
        0,
        install.service.gid,
        0o750,
    )


def test_only_the_service_account_is_served(
    install: Install, sock: Path, server: UsermgrServer
) -> None:
    answer = ask_as(install.service, sock, '{"op": "ping"}\n')
    assert answer["ok"] is True and answer["result"]["systemd"] is False
    as_root = ask_as(None, sock, '{"op": "ping"}\n')
    assert as_root == {
        "ok": False,
        "error": {"code": "forbidden", "message": "not the service account"},
    }
    # Any other account cannot even reach the socket (directory and socket permissions).
    nobody = lookup("nobody")
    assert nobody is not None
    assert "connect_error" in ask_as(nobody, sock, '{"op": "ping"}\n')


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("not json\n", "invalid_json"),
        ('{"op": "provision", "username": "Root"}\n', "invalid_request"),
        ('{"op": "provision", "username": "a", "linux_user": "root"}\n', "invalid_request"),
        ('{"op": "delete", "username": "a"}\n', "invalid_request"),
        ('{"op": "rollback", "username": "a", "token": "short"}\n', "invalid_request"),
        ("x" * 5000 + "\n", "too_large"),
        ('{"op": "ping"}', "timeout"),  # no newline: never a whole request
    ],
)
def test_refusals(
    install: Install, sock: Path, server: UsermgrServer, line: str, code: str
) -> None:
    answer = ask_as(install.service, sock, line)
    assert answer["ok"] is False and answer["error"]["code"] == code, answer


def test_provision_and_rollback(install: Install, sock: Path, server: UsermgrServer) -> None:
    name = unique_name()
    install.created.append(PREFIX + name)
    request = json.dumps({"op": "provision", "username": name}) + "\n"
    answer = ask_as(install.service, sock, request)
    assert answer["ok"] is True, answer
    result = answer["result"]
    account = lookup(PREFIX + name)
    assert account is not None and result["uid"] == account.uid and result["created"] is True
    assert runner.ping(Path(f"/run/user/{account.uid}/oqto-runner.sock"), account.uid)
    # Registering the same name again is refused: the API only ever makes new accounts.
    again = ask_as(install.service, sock, request)
    assert again["error"]["code"] == "account_exists"

    wrong = {"op": "rollback", "username": name, "token": "A" * 43}
    assert ask_as(install.service, sock, json.dumps(wrong) + "\n")["error"]["code"] == (
        "unknown_token"
    )
    other = {"op": "rollback", "username": "someone", "token": result["rollback_token"]}
    assert ask_as(install.service, sock, json.dumps(other) + "\n")["error"]["code"] == (
        "unknown_token"
    )
    right = {"op": "rollback", "username": name, "token": result["rollback_token"]}
    undone = ask_as(install.service, sock, json.dumps(right) + "\n")
    assert undone == {"ok": True, "result": {"rolled_back": True}}
    assert lookup(PREFIX + name) is None
    assert not account.home.exists()
    assert ask_as(install.service, sock, json.dumps(right) + "\n")["error"]["code"] == (
        "unknown_token"
    )


def test_unclaimed_provisioning_is_rolled_back(
    install: Install, sock: Path, server: UsermgrServer
) -> None:
    """The client gives up (closes) before the answer: the helper undoes its work."""
    name = unique_name()
    install.created.append(PREFIX + name)
    ask_as(install.service, sock, json.dumps({"op": "provision", "username": name}) + "\n", "close")
    wait_for(lambda: lookup(PREFIX + name) is not None, 60, "the account to be created")
    wait_for(lambda: lookup(PREFIX + name) is None, 120, "the unclaimed account to be removed")


def test_failed_provisioning_leaves_nothing(
    install: Install, sock: Path, server: UsermgrServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> int:
        raise runner.RunnerError("injected")

    monkeypatch.setattr(runner, "start_direct", broken)
    name = unique_name()
    install.created.append(PREFIX + name)
    answer = ask_as(install.service, sock, json.dumps({"op": "provision", "username": name}) + "\n")
    assert answer["error"]["code"] == "provisioning_failed"
    assert "injected" in answer["error"]["message"]
    assert lookup(PREFIX + name) is None
