"""`httpclient.UpstreamPool` against real services, on both event loops: keep-alive
reuse, a pooled connection the service closed, the connection limit and its wait, the
idle age, and closing the pool with answers in flight."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from starlette.types import Receive, Send
from tests.unit.http_upstreams import (
    LOOPS,
    Answer,
    Browser,
    RawHandler,
    Seen,
    raw_rig,
    read_body,
    read_head,
    respond,
    rig,
    run,
)
from tests.unit.session_world import eventually

from oqto import httpclient
from oqto.httpclient import UpstreamError
from oqto.protocol.errors import ErrorCode


@pytest.fixture(params=sorted(LOOPS))
def loop(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_sequential_requests_share_one_connection(loop: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with rig(tmp_path) as r:
            for method in ("GET", "POST", "DELETE", "GET"):
                assert (await r.call(method)).status == 200
            assert r.service is not None
            assert len(r.service.requests) == 4
            assert len(r.service.connections) == 1 and r.opener.calls == 1

    run(loop, scenario)


def test_a_connection_the_service_closed_while_idle_is_replaced(loop: str, tmp_path: Path) -> None:
    """uvicorn's keep-alive timeout ran out between two requests: the pool notices."""

    async def scenario() -> None:
        async with rig(tmp_path, timeout_keep_alive=0.05) as r:
            assert (await r.call()).status == 200
            idle = r.pool._idle[0]
            await eventually(lambda: idle.closed)
            assert (await r.call()).status == 200
            assert r.service is not None
            assert len(r.service.connections) == 2 and r.opener.calls == 2

    run(loop, scenario)


def closes_on_the_second_request(heads: list[bytes]) -> RawHandler:
    """A service whose keep-alive ends just as the next request arrives: it answers the
    first request on each connection, and hangs up on the second unanswered."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        heads.append(await read_head(reader))
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 1\r\n\r\n")
        writer.write(str(n).encode())
        await writer.drain()
        heads.append(await read_head(reader))

    return handle


def test_a_bodyless_request_meeting_a_closing_connection_is_sent_again(
    loop: str, tmp_path: Path
) -> None:
    heads: list[bytes] = []

    async def scenario() -> None:
        async with raw_rig(tmp_path, closes_on_the_second_request(heads)) as r:
            first = await r.call()
            second = await r.call("GET", b"/again")
            assert r.raw is not None and r.raw.connections == 2
        assert first.body == b"0"
        # Answered on a new connection, transparently.
        assert second.status == 200 and second.body == b"1"
        assert [h.split(b" ")[1] for h in heads if h] == [b"/x", b"/again", b"/again"]

    run(loop, scenario)


def test_a_request_with_a_body_is_not_sent_twice(loop: str, tmp_path: Path) -> None:
    heads: list[bytes] = []

    async def scenario() -> None:
        async with raw_rig(tmp_path, closes_on_the_second_request(heads)) as r:
            await r.call()
            posting = r.call("POST", b"/prompt", [(b"content-length", b"5")], [b"hello"])
            browser = await asyncio.wait_for(posting, 10)
            assert r.raw is not None and r.raw.connections == 1
        # The service may have acted on it: the client decides whether to send it again.
        assert browser.status == 502
        assert browser.json()["error"] == ErrorCode.UPSTREAM_UNAVAILABLE.value
        assert [h.split(b" ")[1] for h in heads if h] == [b"/x", b"/prompt"]

    run(loop, scenario)


def gated(gate: asyncio.Event) -> Answer:
    async def answer(receive: Receive, send: Send, seen: Seen) -> None:
        await read_body(receive)
        if seen.target == b"/slow":
            await gate.wait()
        await respond(send)

    return answer


def test_the_connection_limit_makes_a_request_wait(loop: str, tmp_path: Path) -> None:
    gate = asyncio.Event()

    async def scenario() -> None:
        async with rig(tmp_path, gated(gate), max_connections=1) as r:
            slow = asyncio.ensure_future(r.call(target=b"/slow"))
            assert r.service is not None
            await eventually(lambda: r.service is not None and len(r.service.requests) == 1)
            waiting = asyncio.ensure_future(r.call(target=b"/next"))
            await eventually(lambda: len(r.pool._waiters) == 1)
            assert len(r.service.requests) == 1 and r.opener.calls == 1
            gate.set()
            assert (await asyncio.wait_for(slow, 10)).status == 200
            assert (await asyncio.wait_for(waiting, 10)).status == 200
            assert [s.target for s in r.service.requests] == [b"/slow", b"/next"]
            assert len(r.service.connections) == 1

    run(loop, scenario)


def test_a_request_waiting_too_long_for_a_connection_is_a_504(
    loop: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(httpclient, "POOL_TIMEOUT", 0.05)
    gate = asyncio.Event()

    async def scenario() -> None:
        async with rig(tmp_path, gated(gate), max_connections=1) as r:
            slow = asyncio.ensure_future(r.call(target=b"/slow"))
            await eventually(lambda: r.service is not None and len(r.service.requests) == 1)
            late = await r.call(target=b"/next")
            assert late.status == 504
            assert late.json()["error"] == ErrorCode.UPSTREAM_TIMEOUT.value
            assert "busy" in late.json()["message"]
            assert not r.pool._waiters
            gate.set()
            assert (await asyncio.wait_for(slow, 10)).status == 200
            assert r.service is not None and len(r.service.requests) == 1

    run(loop, scenario)


def test_idle_connections_past_their_age_are_not_reused(
    loop: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every idle connection is older than no time at all.
    monkeypatch.setattr(httpclient, "IDLE_SECONDS", 0.0)

    async def scenario() -> None:
        async with rig(tmp_path) as r:
            assert (await r.call()).status == 200
            old = r.pool._idle[0]
            assert (await r.call()).status == 200
            assert old.closed and old not in r.pool._all
            assert r.service is not None
            assert len(r.service.connections) == 2 and r.opener.calls == 2

    run(loop, scenario)


def test_closing_the_pool_ends_answers_in_flight(loop: str, tmp_path: Path) -> None:
    disconnected = asyncio.Event()

    async def answer(receive: Receive, send: Send, seen: Seen) -> None:
        await read_body(receive)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream")],
            }
        )
        await send({"type": "http.response.body", "body": b"data: 1\n\n", "more_body": True})
        while (await receive())["type"] != "http.disconnect":
            pass
        disconnected.set()

    async def scenario() -> None:
        async with rig(tmp_path, answer) as r:
            browsers = [Browser(), Browser()]
            calls = [asyncio.ensure_future(r.call(browser=b)) for b in browsers]
            await eventually(lambda: all(b"data: 1\n\n" in b.bodies for b in browsers))
            r.pool.close()
            await asyncio.wait_for(asyncio.gather(*calls), 5)
            await asyncio.wait_for(disconnected.wait(), 5)
            assert r.service is not None
            await eventually(lambda: r.service is not None and r.service.open_connections == 0)
            with pytest.raises(UpstreamError) as refused:
                await r.pool.acquire()
            assert refused.value.code is ErrorCode.SESSION_NOT_RUNNING
            after = await r.call()
            assert after.json()["error"] == ErrorCode.SESSION_NOT_RUNNING.value

    run(loop, scenario)


def test_a_failed_connect_frees_its_place_for_a_waiting_request(
    loop: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(httpclient, "POOL_TIMEOUT", 3.0)
    gate = asyncio.Event()

    async def scenario() -> None:
        async with rig(tmp_path, max_connections=1) as r:
            real = r.pool._opener
            calls = 0

            async def first_fails() -> socket.socket:
                nonlocal calls
                calls += 1
                if calls == 1:
                    await gate.wait()
                    raise ConnectionRefusedError("refused")
                return await real()

            r.pool._opener = first_fails
            failing = asyncio.ensure_future(r.call())
            await eventually(lambda: calls == 1)
            waiting = asyncio.ensure_future(r.call(target=b"/next"))
            await eventually(lambda: len(r.pool._waiters) == 1)
            gate.set()
            assert (await asyncio.wait_for(failing, 10)).status == 502
            # Served as soon as the place is free, not refused when the wait runs out.
            started = asyncio.get_running_loop().time()
            assert (await asyncio.wait_for(waiting, 10)).status == 200
            assert asyncio.get_running_loop().time() - started < httpclient.POOL_TIMEOUT

    run(loop, scenario)


def test_closing_the_pool_refuses_the_requests_waiting_for_a_connection(
    loop: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(httpclient, "POOL_TIMEOUT", 3.0)
    gate = asyncio.Event()

    async def scenario() -> None:
        async with rig(tmp_path, gated(gate), max_connections=1) as r:
            slow = asyncio.ensure_future(r.call(target=b"/slow"))
            await eventually(lambda: r.service is not None and len(r.service.requests) == 1)
            waiting = asyncio.ensure_future(r.call(target=b"/next"))
            await eventually(lambda: len(r.pool._waiters) == 1)
            r.pool.close()
            # At once, and saying why: not a 504 once the wait runs out.
            refused = await asyncio.wait_for(waiting, httpclient.POOL_TIMEOUT / 2)
            assert refused.json()["error"] == ErrorCode.SESSION_NOT_RUNNING.value
            gate.set()
            await asyncio.wait_for(slow, 10)

    run(loop, scenario)


@pytest.mark.parametrize("status", [204, 304])
def test_an_answer_that_has_no_body_by_its_status_keeps_the_connection(
    loop: str, tmp_path: Path, status: int
) -> None:
    async def answer(receive: Receive, send: Send, seen: Seen) -> None:
        await read_body(receive)
        headers = [(b"etag", b'"v1"')]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    async def scenario() -> None:
        async with rig(tmp_path, answer) as r:
            for _ in range(3):
                browser = await asyncio.wait_for(r.call(), 10)
                assert browser.status == status and browser.body == b"" and browser.complete
                assert browser.values("etag") == ['"v1"']
            assert r.service is not None and len(r.service.connections) == 1

    run(loop, scenario)
