"""Fuzzing the usermgr helper's request validation: whatever arrives on its socket, it
either becomes one of three well-formed requests or is refused with a RequestError."""

from __future__ import annotations

import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from oqto.protocol.names import NamingError, linux_name_for
from oqto.usermgr.protocol import (
    MAX_REQUEST_BYTES,
    PingRequest,
    ProvisionRequest,
    RequestError,
    RollbackRequest,
    parse_request,
)

LINUX_NAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=10,
)
names = st.text(max_size=40) | st.from_regex(r"[a-z][a-z0-9_-]{0,35}", fullmatch=True)
requests = st.fixed_dictionaries(
    {"op": st.sampled_from(["ping", "provision", "rollback", "delete", "PING", ""])},
    optional={
        "username": names | json_values,
        "token": st.text(max_size=70) | st.from_regex(r"[A-Za-z0-9_-]{30,66}", fullmatch=True),
        "linux_user": st.text(max_size=10),
        "extra": json_values,
    },
)


def check(request: object) -> None:
    if isinstance(request, ProvisionRequest | RollbackRequest):
        assert LINUX_NAME.fullmatch(request.username) and request.username[0].isalpha()
        try:
            name = linux_name_for(request.username, "oqto_")
        except NamingError:
            return
        assert name.startswith("oqto_") and LINUX_NAME.fullmatch(name)
    else:
        assert isinstance(request, PingRequest)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=MAX_REQUEST_BYTES + 100))
def test_arbitrary_bytes(data: bytes) -> None:
    try:
        check(parse_request(data))
    except RequestError as exc:
        assert exc.code in {"too_large", "invalid_json", "invalid_request"}


@settings(max_examples=600, deadline=None)
@given(requests)
def test_structured_requests(data: dict[str, object]) -> None:
    line = json.dumps(data).encode()
    try:
        request = parse_request(line)
    except RequestError as exc:
        assert exc.code in {"too_large", "invalid_json", "invalid_request"}
        return
    check(request)
    assert set(data) <= {"op", "username", "token"}  # nothing unknown got through


@given(st.sampled_from(["alice\n", "al ice", "../etc", "Alice", "root:x", "a" * 33, "ä", ""]))
def test_hostile_usernames_are_refused(name: str) -> None:
    line = json.dumps({"op": "provision", "username": name}).encode()
    try:
        parse_request(line)
    except RequestError as exc:
        assert exc.code == "invalid_request"
    else:
        raise AssertionError(f"{name!r} was accepted")


def test_valid_requests() -> None:
    assert isinstance(parse_request(b'{"op": "ping"}\n'), PingRequest)
    request = parse_request(b'{"op": "provision", "username": "alice"}')
    assert isinstance(request, ProvisionRequest) and request.username == "alice"
    token = "A" * 43
    rollback = parse_request(
        json.dumps({"op": "rollback", "username": "a", "token": token}).encode()
    )
    assert isinstance(rollback, RollbackRequest)
    for bad in (b"[]", b'"x"', b"{", b'{"op": "provision", "username": 5}', b"\xff"):
        try:
            parse_request(bad)
        except RequestError:
            continue
        raise AssertionError(bad)
