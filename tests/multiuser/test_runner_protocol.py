"""Hostile input on a real runner socket: the first bad frame gets a typed error and ends
that connection; the runner keeps serving everyone else. (Root is an allowed peer, so the
test talks to alice's runner.)"""

from __future__ import annotations

import contextlib
import json
import socket
from typing import Any

import pytest
from tests.multiuser.platform import MultiUserPlatform, PlatformUser

from oqto.protocol.runner import MAX_FRAME_BYTES


class Raw:
    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(30)
        self.sock.connect(path)
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def recv(self) -> dict[str, Any]:
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("runner closed the connection")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        data: dict[str, Any] = json.loads(line)
        return data

    def request(self, rid: int, method: str, params: dict[str, Any]) -> dict[str, Any]:
        msg = {"type": "request", "id": rid, "method": method, "params": params}
        self.send(json.dumps(msg).encode() + b"\n")
        return self.recv()

    def hello(self, version: int = 1) -> dict[str, Any]:
        self.send(json.dumps({"type": "hello", "protocol": version, "agent": "t"}).encode() + b"\n")
        return self.recv()


@pytest.fixture
def raw(platform: MultiUserPlatform, alice: PlatformUser) -> Raw:
    return Raw(str(platform.runner_socket(alice)))


def code(reply: dict[str, Any]) -> str:
    assert reply["type"] == "error", reply
    return str(reply["error"]["code"])


def closed(raw: Raw) -> bool:
    try:
        raw.recv()
    except ConnectionError:
        return True
    return False


BAD_AFTER_HELLO = [
    (b"{not json\n", "bad_frame"),
    (b"[1, 2]\n", "bad_frame"),
    (b"\xff\xfe\n", "bad_frame"),
    (b'{"type": "teleport"}\n', "invalid_message"),
    (b'{"x":"' + b"x" * MAX_FRAME_BYTES + b'"}\n', "frame_too_large"),
    # An HTTP request pushed into the socket: its first line is not a frame.
    (b"POST /api/sessions HTTP/1.1\r\nHost: x\r\n\r\n{}\n", "bad_frame"),
    (b'{"type":"response","id":1,"result":{}}\n', "invalid_message"),
]


@pytest.mark.parametrize(("data", "expected"), BAD_AFTER_HELLO)
def test_first_bad_frame_ends_the_connection(
    platform: MultiUserPlatform, alice: PlatformUser, data: bytes, expected: str
) -> None:
    raw = Raw(str(platform.runner_socket(alice)))
    assert raw.hello()["uid"] == alice.account.uid
    # It may hang up mid-way through an oversize frame, as it should; then read why.
    with contextlib.suppress(BrokenPipeError):
        raw.send(data + b'{"type":"request","id":9,"method":"ping","params":{}}\n')
    assert code(raw.recv()) == expected
    assert closed(raw), "the runner read on after a bad frame"


def test_nothing_but_hello_is_accepted_first(
    platform: MultiUserPlatform, alice: PlatformUser
) -> None:
    raw = Raw(str(platform.runner_socket(alice)))
    assert code(raw.request(1, "ping", {})) == "handshake_required"
    assert closed(raw)
    raw = Raw(str(platform.runner_socket(alice)))
    raw.send(b"GET / HTTP/1.1\r\n\r\n")
    assert code(raw.recv()) == "bad_frame"
    assert closed(raw)


def test_bad_params_get_typed_errors_and_the_connection_stays(raw: Raw) -> None:
    assert raw.hello()["uid"] > 0
    assert code(raw.request(2, "spawn", {"argv": ["/bin/sh"]})) == "unknown_method"
    assert code(raw.request(3, "ping", {"extra": 1})) == "invalid_params"
    spec = {"id": "abc", "owner": "x", "workspace": "../escape"}
    assert code(raw.request(4, "session.start", {"spec": spec})) == "invalid_params"
    file_params = {"owner": "x", "workspace": "w", "path": "/etc/passwd"}
    assert code(raw.request(5, "files.read", file_params)) == "unknown_method"
    assert raw.request(6, "ping", {})["result"]["pong"] is True


def test_unsupported_protocol_version(raw: Raw) -> None:
    assert code(raw.hello(version=99)) == "unsupported_version"
