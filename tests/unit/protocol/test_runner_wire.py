"""The runner protocol's wire rules on a real socket, against a real server and against
a hostile runner written here: a frame of exactly MAX_FRAME_BYTES is served, one byte
more ends the connection, whichever side sends it; and a runner's error code counts only
if it is one a runner may send."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest

from oqto.osutil.peercred import runner_policy
from oqto.protocol.errors import ErrorCode
from oqto.protocol.runner import MAX_FRAME_BYTES, Empty, Method, PingResult
from oqto.runner.client import RunnerClient, RunnerUnavailable
from oqto.runner.handlers import RunnerHandlers
from oqto.runner.server import RunnerServer
from oqto.userplane.base import UserPlaneError
from oqto.userplane.local import LocalUserPlane


def padded(message: dict[str, Any], size: int) -> bytes:
    """`message` as one frame of exactly `size` bytes before its newline (JSON allows
    whitespace before the closing brace)."""
    compact = json.dumps(message, separators=(",", ":")).encode()
    return compact[:-1] + b" " * (size - len(compact)) + b"}\n"


HELLO = json.dumps({"type": "hello", "protocol": 1, "agent": "t"}).encode() + b"\n"
PING = {"type": "request", "id": 1, "method": "ping", "params": {}}


async def _against_the_server(path: Path, size: int) -> dict[str, Any]:
    # Only ping is called, which never reaches the user plane.
    handlers = RunnerHandlers(cast(LocalUserPlane, object()), "test")
    server = RunnerServer(handlers, runner_policy(os.getuid(), None))
    await server.serve(path, None)
    reader, writer = await asyncio.open_unix_connection(str(path), limit=4 * MAX_FRAME_BYTES)
    try:
        writer.write(HELLO + padded(PING, size))
        await writer.drain()
        await reader.readline()  # the server's hello
        reply: dict[str, Any] = json.loads(await asyncio.wait_for(reader.readline(), 10))
        if reply["type"] == "error":
            assert await asyncio.wait_for(reader.read(), 10) == b"", "it read on"
        return reply
    finally:
        writer.close()
        await server.close()


@pytest.mark.parametrize(
    ("size", "kind"), [(MAX_FRAME_BYTES, "response"), (MAX_FRAME_BYTES + 1, "error")]
)
def test_the_runner_reads_no_frame_over_the_limit(tmp_path: Path, size: int, kind: str) -> None:
    reply = asyncio.run(_against_the_server(tmp_path / "runner.sock", size))
    assert reply["type"] == kind
    if kind == "error":
        assert reply["error"]["code"] == "frame_too_large"
    else:
        assert reply["result"]["pong"] is True


Answer = Callable[[int], bytes]


async def _against_the_client(path: Path, answer: Answer) -> PingResult:
    """Ping through the real client a runner that greets properly, then says `answer`."""

    async def runner(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        writer.write(
            json.dumps(
                {"type": "hello", "protocol": 1, "agent": "r", "uid": os.getuid(), "user": "u"}
            ).encode()
            + b"\n"
        )
        request = json.loads(await reader.readline())
        writer.write(answer(request["id"]))
        await writer.drain()
        await reader.read()  # until the client hangs up

    server = await asyncio.start_unix_server(runner, str(path))
    client = RunnerClient(path, timeout=10)
    try:
        return await client.call(Method.PING, Empty())
    finally:
        await client.close()
        server.close()
        await server.wait_closed()


def pong_of(size: int) -> Answer:
    result = {"pong": True, "uid": os.getuid(), "version": "v"}
    return lambda request_id: padded({"type": "response", "id": request_id, "result": result}, size)


def test_the_client_takes_an_answer_of_exactly_the_limit(tmp_path: Path) -> None:
    pong = asyncio.run(_against_the_client(tmp_path / "runner.sock", pong_of(MAX_FRAME_BYTES)))
    assert pong == PingResult(uid=os.getuid(), version="v")


def test_the_client_drops_a_runner_that_sends_more(tmp_path: Path) -> None:
    with pytest.raises(RunnerUnavailable, match="closed the connection"):
        asyncio.run(_against_the_client(tmp_path / "runner.sock", pong_of(MAX_FRAME_BYTES + 1)))


@pytest.mark.parametrize(
    ("sent", "read"),
    [
        ("path_too_long", ErrorCode.PATH_TOO_LONG),  # a runner's own: kept
        ("unauthorized", ErrorCode.INTERNAL),  # would sign out whoever asked
        ("csrf_failed", ErrorCode.INTERNAL),
        ("runner_unavailable", ErrorCode.INTERNAL),  # the client's to say, not the runner's
        ("made_up_by_a_runner", ErrorCode.INTERNAL),
    ],
)
def test_a_runner_cannot_answer_with_a_code_that_is_not_a_runners(
    tmp_path: Path, sent: str, read: ErrorCode
) -> None:
    def refusal(request_id: int) -> bytes:
        error = {"code": sent, "message": "no"}
        return json.dumps({"type": "error", "id": request_id, "error": error}).encode() + b"\n"

    with pytest.raises(UserPlaneError) as caught:
        asyncio.run(_against_the_client(tmp_path / "runner.sock", refusal))
    assert caught.value.code is read
