"""`proxy.http.forward` between a recorded browser side and a real service (uvicorn on a
Unix socket, or a raw server for services that misbehave), on both event loops: which
headers cross in each direction, the rules for request bodies, how every kind of answer
is relayed, SSE heartbeats, the end of a long answer (revoked, client gone), flow control
towards a slow browser, and the errors when the service cannot be reached."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import socket
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from starlette.types import Receive, Send
from tests.unit.http_upstreams import (
    AGENT_AUTH,
    CLIENT,
    LOOPS,
    Browser,
    Opener,
    Rig,
    Seen,
    answer_with,
    only_connection,
    raw_rig,
    read_body,
    read_head,
    request_scope,
    respond,
    rig,
    run,
)
from tests.unit.session_world import eventually

from oqto import httpclient
from oqto.control.proxy import http as proxy_http
from oqto.control.proxy.http import SSE_HEARTBEAT, upstream_target
from oqto.httpclient import MAX_HEAD_BYTES, READ_HIGH_WATER, UpstreamPool
from oqto.protocol.errors import ErrorCode
from oqto.sockclient import OpenerError

MiB = 1 << 20
# The most one read from a socket hands the protocol (asyncio's and uvloop's buffer).
ONE_READ = 256 * 1024


@pytest.fixture(params=sorted(LOOPS))
def loop(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_upstream_target_keeps_the_encoding_and_the_query() -> None:
    scope = request_scope(target=b"/session/a%2Fb/message?directory=%2Ftmp")
    assert upstream_target(scope, "agent") == b"/session/a%2Fb/message?directory=%2Ftmp"
    assert upstream_target(request_scope(target=b"/", service=b"files"), "files") == b"/"
    # A path that is not the named service's has nothing after it.
    assert upstream_target(request_scope(target=b"/x"), "files") == b"/"


# -- headers towards the service ----------------------------------------------------------

PLATFORM_CREDENTIALS = [
    (b"cookie", b"oqto_session=secret; oqto_csrf=c"),
    (b"authorization", b"Bearer oqto_secret"),
    (b"x-csrf-token", b"c"),
    (b"origin", b"https://oqto.example"),
    (b"referer", b"https://oqto.example/app"),
]


def one_request(requests: list[Seen]) -> Seen:
    assert len(requests) == 1, requests
    return requests[0]


def test_platform_credentials_stay_behind_and_the_service_credential_goes(
    loop: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with rig(tmp_path) as r:
            browser = await r.call("GET", b"/x?q=1", [*PLATFORM_CREDENTIALS, (b"x-kept", b"1")])
            assert browser.status == 200
            assert r.service is not None
            seen = one_request(r.service.requests)
        assert seen.method == "GET" and seen.target == b"/x?q=1"
        # Exactly what the browser sent that is the service's business, plus our own:
        # no user-agent, accept or accept-encoding of a client library.
        assert sorted(seen.headers) == sorted(
            [
                ("host", "agent"),
                ("x-kept", "1"),
                ("x-forwarded-for", CLIENT[0]),
                ("x-forwarded-proto", "http"),
                ("x-forwarded-host", "oqto.example"),
                ("authorization", AGENT_AUTH.decode()),
            ]
        )

    run(loop, scenario)


def test_a_service_without_a_credential_gets_no_authorization(loop: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with rig(tmp_path, authorization=None) as r:
            await r.call("GET", b"/tree", PLATFORM_CREDENTIALS, label="files")
            assert r.service is not None
            seen = one_request(r.service.requests)
        assert seen.target == b"/tree"
        for name, _ in PLATFORM_CREDENTIALS:
            assert name.decode() not in seen.names

    run(loop, scenario)


def test_forwarding_headers_are_ours_and_connection_named_ones_go(
    loop: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with rig(tmp_path) as r:
            await r.call(
                "GET",
                b"/x",
                [
                    (b"x-forwarded-for", b"6.6.6.6"),
                    (b"x-forwarded-host", b"evil.example"),
                    (b"x-forwarded-proto", b"https"),
                    (b"x-forwarded-port", b"1"),
                    (b"forwarded", b"for=6.6.6.6"),
                    (b"x-real-ip", b"6.6.6.6"),
                    (b"connection", b"keep-alive, X-Hop"),
                    (b"keep-alive", b"timeout=5"),
                    (b"x-hop", b"secret"),
                    (b"te", b"trailers"),
                    (b"upgrade", b"h2c"),
                    (b"expect", b"100-continue"),
                    (b"x-kept", b"1"),
                ],
            )
            assert r.service is not None
            seen = one_request(r.service.requests)
        assert seen.values("x-forwarded-for") == [CLIENT[0]]
        assert seen.values("x-forwarded-proto") == ["http"]
        assert seen.values("x-forwarded-host") == ["oqto.example"]
        for name in (
            "x-forwarded-port",
            "forwarded",
            "x-real-ip",
            "connection",
            "keep-alive",
            "x-hop",
            "te",
            "upgrade",
            "expect",
        ):
            assert name not in seen.names, name
        assert seen.values("x-kept") == ["1"]

    run(loop, scenario)


def test_accept_encoding_and_accept_pass_exactly(loop: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with rig(tmp_path) as r:
            await r.call(
                "GET",
                b"/x",
                [(b"accept-encoding", b"br;q=1, identity;q=0.5"), (b"accept", b"text/x")],
            )
            assert r.service is not None
            seen = one_request(r.service.requests)
        assert seen.values("accept-encoding") == ["br;q=1, identity;q=0.5"]
        assert seen.values("accept") == ["text/x"]

    run(loop, scenario)


# -- headers towards the browser ----------------------------------------------------------


def test_the_answer_loses_date_server_cookies_auth_prompts_and_connection_headers(
    loop: str, tmp_path: Path
) -> None:
    answer = answer_with(
        headers=[
            (b"set-cookie", b"oqto_session=evil; Path=/"),
            (b"www-authenticate", b'Basic realm="opencode"'),
            (b"connection", b"x-upstream-hop"),
            (b"x-upstream-hop", b"1"),
            (b"x-kept", b"2"),
        ]
    )

    async def scenario() -> None:
        async with rig(tmp_path, answer) as r:
            browser = await r.call()
        got = browser.header_names()
        # uvicorn added its own date and server; the front door adds ours.
        for name in ("date", "server", "set-cookie", "www-authenticate", "connection"):
            assert name not in got, name
        assert "x-upstream-hop" not in got
        assert ("x-kept", "2") in browser.headers
        assert browser.values("content-length") == ["2"] and browser.body == b"{}"

    run(loop, scenario)


def test_response_headers_are_matched_whatever_their_case(loop: str, tmp_path: Path) -> None:
    async def service(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> None:
        await read_head(reader)
        writer.write(
            b"HTTP/1.1 200 OK\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\nServer: opencode\r\n"
            b"Set-Cookie: a=b\r\nWWW-Authenticate: Basic\r\nConnection: X-Hop\r\nX-Hop: 1\r\n"
            b"Content-Type: Text/HTML\r\nX-Frame-Options: SAMEORIGIN\r\n"
            b"Content-Length: 2\r\n\r\nhi"
        )
        await reader.read()

    async def scenario() -> None:
        async with raw_rig(tmp_path, service) as r:
            browser = await r.call()
        got = browser.header_names()
        for name in ("date", "server", "set-cookie", "www-authenticate", "connection", "x-hop"):
            assert name not in got, name
        assert got.count("x-frame-options") == 1 and browser.values("x-frame-options") == ["DENY"]
        assert browser.body == b"hi"

    run(loop, scenario)


def test_sse_headers_are_set_once_and_the_length_goes(loop: str, tmp_path: Path) -> None:
    events = b"data: one\n\ndata: two\n\n"
    answer = answer_with(
        events,
        b"text/event-stream; charset=utf-8",
        [(b"cache-control", b"no-store"), (b"x-accel-buffering", b"yes")],
    )

    async def scenario() -> None:
        async with rig(tmp_path, answer) as r:
            browser = await r.call()
        got = browser.header_names()
        assert got.count("cache-control") == 1 and browser.values("cache-control") == ["no-cache"]
        assert got.count("x-accel-buffering") == 1 and browser.values("x-accel-buffering") == ["no"]
        assert "content-length" not in got
        assert browser.body == events and browser.complete

    run(loop, scenario)


@pytest.mark.parametrize(
    "content_type",
    [b"text/html; charset=utf-8", b"image/svg+xml", b"application/octet-stream", b"text/plain"],
)
def test_content_that_is_not_json_cannot_script_or_be_framed(
    loop: str, tmp_path: Path, content_type: bytes
) -> None:
    answer = answer_with(
        b"<p>hi</p>",
        content_type,
        [
            (b"x-frame-options", b"SAMEORIGIN"),
            (b"x-content-type-options", b"nosniff"),
            (b"content-security-policy", b"img-src *"),
        ],
    )

    async def scenario() -> None:
        async with rig(tmp_path, answer) as r:
            browser = await r.call(label="files")
        got = browser.header_names()
        assert browser.values("x-frame-options") == ["DENY"]
        assert browser.values("x-content-type-options") == ["nosniff"]
        policies = browser.values("content-security-policy")
        # The service's own policy is kept: browsers enforce every one, so it only tightens.
        assert sorted(policies) == sorted(["img-src *", "sandbox; default-src 'none'"])
        assert got.count("content-security-policy") == 2

    run(loop, scenario)


def test_an_answer_without_a_content_type_is_sandboxed_too(loop: str, tmp_path: Path) -> None:
    async def service(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi")
        await reader.read()

    async def scenario() -> None:
        async with raw_rig(tmp_path, service) as r:
            browser = await r.call()
        assert browser.values("content-security-policy") == ["sandbox; default-src 'none'"]
        assert browser.values("x-frame-options") == ["DENY"]

    run(loop, scenario)


@pytest.mark.parametrize(
    "content_type",
    [b"application/json", b"application/json; charset=utf-8", b"application/problem+json"],
)
def test_json_gets_no_content_headers(loop: str, tmp_path: Path, content_type: bytes) -> None:
    async def scenario() -> None:
        async with rig(tmp_path, answer_with(b"{}", content_type)) as r:
            browser = await r.call()
        got = browser.header_names()
        for name in ("content-security-policy", "x-frame-options", "x-content-type-options"):
            assert name not in got, name
        assert browser.body == b"{}"

    run(loop, scenario)


# -- request bodies -----------------------------------------------------------------------


@pytest.mark.parametrize("framing", [(b"content-length", b"5"), (b"transfer-encoding", b"chunked")])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_get_or_head_with_a_body_is_refused_unseen(
    loop: str, tmp_path: Path, method: str, framing: tuple[bytes, bytes]
) -> None:
    async def scenario() -> None:
        async with rig(tmp_path) as r:
            browser = await r.call(method, headers=[framing], body=[b"hello"])
            assert r.service is not None
            assert r.service.requests == [] and r.opener.calls == 0
        assert browser.status == 400
        assert browser.json()["error"] == ErrorCode.BODY_NOT_ALLOWED.value
        assert browser.asked == 0

    run(loop, scenario)


def test_a_get_declaring_an_empty_body_is_fine(loop: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with rig(tmp_path) as r:
            browser = await r.call("GET", headers=[(b"content-length", b"0")])
            assert r.service is not None
            seen = one_request(r.service.requests)
        assert browser.status == 200
        assert "content-length" not in seen.names

    run(loop, scenario)


def test_a_declared_oversize_body_is_refused_before_it_is_read(loop: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with rig(tmp_path) as r:
            browser = await r.call(
                "PUT",
                headers=[(b"content-length", b"1001")],
                body=[b"x" * 1001],
                label="files",
                max_body_bytes=1000,
            )
            assert browser.status == 413 and browser.asked == 0
            error = browser.json()
            assert error["error"] == ErrorCode.TOO_LARGE.value and "1000" in error["message"]
            # The rest of the body would follow on this connection: it cannot carry more.
            assert browser.values("connection") == ["close"]
            assert r.service is not None
            assert r.service.requests == [] and r.opener.calls == 0

            at_limit = await r.call(
                "PUT",
                headers=[(b"content-length", b"1000")],
                body=[b"x" * 600, b"x" * 400],
                label="files",
                max_body_bytes=1000,
            )
            assert at_limit.status == 200
            seen = one_request(r.service.requests)
        assert seen.body == b"x" * 1000 and seen.values("content-length") == ["1000"]

    run(loop, scenario)


def test_a_chunked_request_body_arrives_intact(loop: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with rig(tmp_path) as r:
            browser = await r.call(
                "POST",
                headers=[(b"transfer-encoding", b"chunked"), (b"content-type", b"text/plain")],
                # An empty part in the middle must not end the body early.
                body=[b"part1-", b"", b"part2", b""],
            )
            assert r.service is not None
            seen = one_request(r.service.requests)
        assert browser.status == 200
        assert seen.body == b"part1-part2"
        assert seen.values("transfer-encoding") == ["chunked"]
        assert "content-length" not in seen.names

    run(loop, scenario)


@pytest.mark.parametrize(("method", "length"), [("POST", ["0"]), ("PUT", ["0"]), ("DELETE", [])])
def test_a_request_without_a_body_is_framed_as_empty(
    loop: str, tmp_path: Path, method: str, length: list[str]
) -> None:
    """A POST, PUT or PATCH says it has no body (some servers wait for one otherwise);
    other methods get no framing header they did not send."""

    async def scenario() -> None:
        async with rig(tmp_path) as r:
            browser = await r.call(method)
            assert r.service is not None
            seen = one_request(r.service.requests)
        assert browser.status == 200
        assert seen.values("content-length") == length
        assert "transfer-encoding" not in seen.names and seen.body == b""

    run(loop, scenario)


def block(i: int) -> bytes:
    return bytes([i % 251]) * (64 * 1024)


def test_a_big_upload_streams_through_with_bounded_memory(loop: str, tmp_path: Path) -> None:
    """20 MiB to a service that stops reading after the first MiB until told to go on: the
    proxy pulls from the browser no faster than the service takes, so what is in flight
    (pulled from the browser, not yet read by the service) stays a few socket buffers."""
    blocks = 320
    total = blocks * 64 * 1024
    expected = hashlib.sha256(b"".join(block(i) for i in range(blocks))).hexdigest()
    state = {"pulled": 0, "read": 0, "in_flight": 0}
    go_on = asyncio.Event()

    def parts() -> Iterator[bytes]:
        for i in range(blocks):
            data = block(i)
            state["pulled"] += len(data)
            state["in_flight"] = max(state["in_flight"], state["pulled"] - state["read"])
            yield data

    async def answer(receive: Receive, send: Send, seen: Seen) -> None:
        digest = hashlib.sha256()
        while True:
            message = await receive()
            data = message.get("body", b"")
            digest.update(data)
            state["read"] += len(data)
            if state["read"] >= MiB:
                await go_on.wait()
            if not message.get("more_body"):
                break
        seen.body = digest.hexdigest().encode()
        await respond(send)

    async def scenario() -> None:
        async with rig(tmp_path, answer) as r:
            call = asyncio.ensure_future(
                r.call("PUT", headers=[(b"content-length", str(total).encode())], body=parts())
            )
            await eventually(lambda: r.pool._all and only_connection(r.pool)._write_paused)
            assert state["pulled"] < total  # it waits for the service
            go_on.set()
            browser = await asyncio.wait_for(call, 30)
            assert r.service is not None
            seen = one_request(r.service.requests)
        assert browser.status == 200
        assert seen.body.decode() == expected and state["read"] == total
        assert state["in_flight"] < 4 * MiB, state

    run(loop, scenario)


# -- answers ------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 10, 3 * MiB])
def test_a_content_length_answer_is_relayed_byte_exact(
    loop: str, tmp_path: Path, size: int
) -> None:
    body = (bytes(range(256)) * (size // 256 + 1))[:size]

    async def scenario() -> None:
        async with rig(tmp_path, answer_with(body, b"application/octet-stream")) as r:
            browser = await r.call()
        assert browser.status == 200
        assert browser.values("content-length") == [str(size)]
        assert browser.body == body and browser.complete

    run(loop, scenario)


def test_a_chunked_answer_is_relayed_byte_exact(loop: str, tmp_path: Path) -> None:
    parts = [bytes(range(256)) * 100, b"", b"\r\n0\r\n\r\n", b"tail" * 5000]

    async def answer(receive: Receive, send: Send, seen: Seen) -> None:
        await read_body(receive)
        await send(
            {"type": "http.response.start", "status": 201, "headers": [(b"content-type", b"x/y")]}
        )
        for part in parts:
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def scenario() -> None:
        async with rig(tmp_path, answer) as r:
            browser = await r.call()
        assert browser.status == 201
        got = browser.header_names()
        assert "transfer-encoding" not in got and "content-length" not in got
        assert browser.body == b"".join(parts) and browser.complete

    run(loop, scenario)


def test_an_answer_that_ends_with_the_connection_is_relayed_whole(
    loop: str, tmp_path: Path
) -> None:
    parts = [b"a" * 100_000, b"b" * 100_000, b"end"]

    async def service(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\n")
        for part in parts:
            writer.write(part)
            await writer.drain()

    async def scenario() -> None:
        async with raw_rig(tmp_path, service) as r:
            first = await r.call()
            second = await r.call()
            assert r.raw is not None and r.raw.connections == 2  # not reused
        for browser in (first, second):
            assert browser.status == 200
            assert browser.body == b"".join(parts) and browser.complete

    run(loop, scenario)


TOO_LARGE_ANSWER = (
    b"HTTP/1.1 413 Payload Too Large\r\ncontent-type: application/json\r\n"
    b'content-length: 21\r\n\r\n{"error":"too_large"}'
)


@pytest.mark.parametrize("then", ["reads on", "hangs up"])
def test_an_answer_before_the_whole_body_is_relayed(loop: str, tmp_path: Path, then: str) -> None:
    """The service refuses an upload after its head (a 413, say): its answer reaches the
    browser, the rest of the body is not sent, and the connection is not used again."""

    async def service(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await read_head(reader)
        if n > 0:  # the request after it
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
            await writer.drain()
            await reader.read()
            return
        writer.write(TOO_LARGE_ANSWER)
        await writer.drain()
        if then == "reads on":
            await reader.read()

    async def scenario() -> None:
        async with raw_rig(tmp_path, service) as r:
            size = 4 * MiB
            upload = r.call(
                "PUT",
                headers=[(b"content-length", str(size).encode())],
                body=(block(i) for i in range(size // (64 * 1024))),
            )
            browser = await asyncio.wait_for(upload, 10)
            assert browser.status == 413 and browser.complete
            assert browser.json() == {"error": "too_large"}
            assert (await r.call()).body == b"ok"
            assert r.raw is not None and r.raw.connections == 2

    run(loop, scenario)


def test_interim_answers_are_skipped(loop: str, tmp_path: Path) -> None:
    async def service(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await writer.drain()
        writer.write(b"HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\n")
        await writer.drain()
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok")
        await reader.read()

    async def scenario() -> None:
        async with raw_rig(tmp_path, service) as r:
            browser = await r.call("PUT", headers=[(b"content-length", b"3")], body=[b"abc"])
        assert browser.status == 200 and browser.body == b"ok" and browser.complete
        assert "link" not in browser.header_names()

    run(loop, scenario)


def test_a_head_answer_has_no_body_and_its_connection_is_not_reused(
    loop: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with rig(tmp_path, answer_with(b"hello", b"text/plain")) as r:
            first = await r.call("HEAD")
            second = await r.call("HEAD")
            after = await r.call("GET")
            assert r.service is not None
            assert [s.method for s in r.service.requests] == ["HEAD", "HEAD", "GET"]
            assert len(r.service.connections) == 3 and r.opener.calls == 3
        for browser in (first, second):
            assert browser.status == 200 and browser.values("content-length") == ["5"]
            assert browser.body == b"" and browser.complete
        assert after.body == b"hello"

    run(loop, scenario)


def test_a_service_that_dies_mid_body_leaves_the_answer_incomplete(
    loop: str, tmp_path: Path
) -> None:
    async def service(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 100\r\n\r\n")
        await writer.drain()
        writer.write(b"0123456789")
        await writer.drain()

    async def scenario() -> None:
        async with raw_rig(tmp_path, service) as r:
            browser = await r.call()
        assert browser.status == 200
        assert browser.body == b"0123456789"
        assert not browser.complete, browser.sent

    run(loop, scenario)


def test_a_service_that_hangs_up_without_answering_is_a_502(loop: str, tmp_path: Path) -> None:
    async def service(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> None:
        await read_head(reader)

    async def scenario() -> None:
        async with raw_rig(tmp_path, service) as r:
            browser = await r.call()
            assert r.raw is not None and r.raw.connections == 1  # a new connection: no retry
        assert browser.status == 502
        assert browser.json()["error"] == ErrorCode.UPSTREAM_UNAVAILABLE.value

    run(loop, scenario)


def test_endless_headers_from_a_hostile_service_are_cut_off(loop: str, tmp_path: Path) -> None:
    """The session's user controls the service: headers without end must not fill our
    memory. The answer is refused once its head passes MAX_HEAD_BYTES."""
    sent = 0

    async def service(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> None:
        nonlocal sent
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\n")
        line = b"x-pad: " + b"a" * 1000 + b"\r\n"
        with contextlib.suppress(ConnectionError):
            while sent < 100 * MAX_HEAD_BYTES:
                writer.write(line * 16)
                sent += len(line) * 16
                await writer.drain()

    async def scenario() -> None:
        async with raw_rig(tmp_path, service) as r:
            browser = await r.call()
        assert browser.status == 502
        assert browser.json()["error"] == ErrorCode.UPSTREAM_UNAVAILABLE.value
        assert sent < 100 * MAX_HEAD_BYTES, "the proxy read the whole endless head"

    run(loop, scenario)


def test_broken_http_from_the_service_is_a_502(loop: str, tmp_path: Path) -> None:
    async def service(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> None:
        await read_head(reader)
        writer.write(b"SPDY/9 what\r\n\r\n")
        await reader.read()

    async def scenario() -> None:
        async with raw_rig(tmp_path, service) as r:
            browser = await r.call()
        assert browser.status == 502
        assert browser.json()["error"] == ErrorCode.UPSTREAM_UNAVAILABLE.value

    run(loop, scenario)


# -- the service cannot be reached --------------------------------------------------------


def refused_socket(path: Path) -> socket.socket:
    """A socket file nobody accepts on (bound, never listening)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    return sock


async def through(opener: Callable[[], Awaitable[socket.socket]], label: str = "agent") -> Browser:
    pool = UpstreamPool(opener, label.encode())
    try:
        return await Rig(pool, opener).call(label=label)
    finally:
        pool.close()


@pytest.mark.parametrize("how", ["missing", "refused"])
def test_an_unreachable_service_is_a_502(loop: str, tmp_path: Path, how: str) -> None:
    path = tmp_path / "gone.sock"

    async def scenario() -> None:
        browser = await through(Opener(path), "files")
        assert browser.status == 502
        error = browser.json()
        assert error == {
            "error": ErrorCode.UPSTREAM_UNAVAILABLE.value,
            "message": error["message"],
        }
        assert error["message"].startswith("the session's files: not reachable")

    if how == "refused":
        with refused_socket(path):
            run(loop, scenario)
    else:
        run(loop, scenario)


def test_an_opener_error_gives_its_own_status(loop: str) -> None:
    async def opener() -> socket.socket:
        raise OpenerError("the runner is away", ErrorCode.RUNNER_UNAVAILABLE)

    async def scenario() -> None:
        browser = await through(opener)
        assert browser.status == 503
        assert browser.values("retry-after") != []
        assert browser.json()["error"] == ErrorCode.RUNNER_UNAVAILABLE.value
        assert "the runner is away" in browser.json()["message"]

    run(loop, scenario)


def test_a_hanging_opener_is_a_504(loop: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(httpclient, "CONNECT_TIMEOUT", 0.05)

    async def opener() -> socket.socket:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def scenario() -> None:
        browser = await through(opener)
        assert browser.status == 504
        error = browser.json()
        assert error["error"] == ErrorCode.UPSTREAM_TIMEOUT.value
        assert "did not answer in time" in error["message"]

    run(loop, scenario)


# -- SSE and long answers -----------------------------------------------------------------


def sse_start() -> dict[str, object]:
    return {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-type", b"text/event-stream")],
    }


async def until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def test_sse_heartbeats_come_only_between_events(
    loop: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(proxy_http, "SSE_HEARTBEAT_SECONDS", 0.02)
    mid, end = asyncio.Event(), asyncio.Event()

    async def answer(receive: Receive, send: Send, seen: Seen) -> None:
        await read_body(receive)
        await send(sse_start())
        if seen.target == b"/clock":  # quiet between events, for as long as it is open
            await send({"type": "http.response.body", "body": b"data: tick\n\n", "more_body": True})
            await until_disconnect(receive)
            return
        await send({"type": "http.response.body", "body": b"data: one\n\n", "more_body": True})
        await mid.wait()
        await send({"type": "http.response.body", "body": b"data: tw", "more_body": True})
        await end.wait()
        await send({"type": "http.response.body", "body": b"o\n\n"})

    def beats(browser: Browser) -> int:
        return browser.bodies.count(SSE_HEARTBEAT)

    async def scenario() -> None:
        async with rig(tmp_path, answer) as r:
            events, clock = Browser(), Browser()
            streaming = asyncio.ensure_future(r.call(browser=events))
            ticking = asyncio.ensure_future(r.call(target=b"/clock", browser=clock))
            await eventually(lambda: beats(events) >= 2)  # quiet at a boundary: heartbeats
            mid.set()
            await eventually(lambda: b"data: tw" in events.bodies)
            # Inside an event: while the other stream's heartbeats show the interval
            # passing several times, this one gets none.
            since = beats(clock)
            await eventually(lambda: beats(clock) >= since + 4)
            cut = events.bodies.index(b"data: tw")
            assert SSE_HEARTBEAT not in events.bodies[cut:], events.bodies
            end.set()
            await asyncio.wait_for(streaming, 10)
            clock.leave()
            await asyncio.wait_for(ticking, 10)
        assert events.complete
        assert b"".join(b for b in events.bodies if b != SSE_HEARTBEAT) == (
            b"data: one\n\ndata: two\n\n"
        )

    run(loop, scenario)


def test_the_watch_ends_a_stream_cleanly_and_closes_the_upstream(loop: str, tmp_path: Path) -> None:
    disconnected = asyncio.Event()
    ends: list[Callable[[], None]] = []
    unwatched: list[bool] = []

    def watch(end: Callable[[], None]) -> Callable[[], None]:
        ends.append(end)
        return lambda: unwatched.append(True)

    async def answer(receive: Receive, send: Send, seen: Seen) -> None:
        await read_body(receive)
        await send(sse_start())
        await send({"type": "http.response.body", "body": b"data: one\n\n", "more_body": True})
        await until_disconnect(receive)
        disconnected.set()

    async def scenario() -> None:
        async with rig(tmp_path, answer) as r:
            browser = Browser()
            call = asyncio.ensure_future(r.call(browser=browser, watch=watch))
            await eventually(lambda: b"data: one\n\n" in browser.bodies)
            assert len(ends) == 1 and not unwatched
            ends[0]()
            await asyncio.wait_for(call, 10)
            assert browser.complete
            assert unwatched == [True]
            await asyncio.wait_for(disconnected.wait(), 5)
            assert r.service is not None
            await eventually(lambda: r.service is not None and r.service.open_connections == 0)
            assert not r.pool._all and not r.pool._idle

    run(loop, scenario)


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_download_ended_by_the_watch_is_left_incomplete(
    loop: str, tmp_path: Path, framing: str
) -> None:
    """A revoked download must not look finished: the browser sees it cut short."""
    ends: list[Callable[[], None]] = []
    size = 4 * MiB

    def watch(end: Callable[[], None]) -> Callable[[], None]:
        ends.append(end)
        return lambda: None

    async def answer(receive: Receive, send: Send, seen: Seen) -> None:
        await read_body(receive)
        headers = [(b"content-type", b"application/octet-stream")]
        if framing == "content-length":
            headers.append((b"content-length", str(size).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"x" * 1000, "more_body": True})
        await until_disconnect(receive)

    async def scenario() -> None:
        async with rig(tmp_path, answer) as r:
            browser = Browser()
            call = asyncio.ensure_future(r.call(browser=browser, watch=watch))
            await eventually(lambda: browser.body == b"x" * 1000)
            ends[0]()
            await asyncio.wait_for(call, 10)
        assert not browser.complete, browser.sent[1:]

    run(loop, scenario)


def test_a_short_answer_is_not_watched(loop: str, tmp_path: Path) -> None:
    watched: list[object] = []

    def watch(end: Callable[[], None]) -> Callable[[], None]:
        watched.append(end)
        return lambda: None

    async def scenario() -> None:
        async with rig(tmp_path, answer_with(b"x" * 1000, b"text/plain")) as r:
            browser = await r.call(watch=watch)
        assert browser.body == b"x" * 1000 and watched == []

    run(loop, scenario)


def test_a_browser_that_leaves_mid_stream_closes_the_upstream(loop: str, tmp_path: Path) -> None:
    disconnected = asyncio.Event()

    async def answer(receive: Receive, send: Send, seen: Seen) -> None:
        await read_body(receive)
        await send(sse_start())
        await send({"type": "http.response.body", "body": b"data: one\n\n", "more_body": True})
        await until_disconnect(receive)
        disconnected.set()

    async def scenario() -> None:
        async with rig(tmp_path, answer) as r:
            browser = Browser()
            call = asyncio.ensure_future(r.call(browser=browser))
            await eventually(lambda: b"data: one\n\n" in browser.bodies)
            browser.leave()
            await asyncio.wait_for(call, 10)
            await asyncio.wait_for(disconnected.wait(), 5)
            await eventually(lambda: r.service is not None and r.service.open_connections == 0)
            assert not r.pool._all

    run(loop, scenario)


# -- flow control towards a slow browser --------------------------------------------------


def test_a_slow_browser_pauses_reading_from_the_service(loop: str, tmp_path: Path) -> None:
    total = 16 * MiB
    part = bytes(range(256)) * 256  # 64 KiB
    sent = {"bytes": 0}
    buffered: list[int] = []
    holder: dict[str, UpstreamPool] = {}

    def sample() -> None:
        if holder["pool"]._all:
            buffered.append(only_connection(holder["pool"])._buffered)

    async def answer(receive: Receive, send: Send, seen: Seen) -> None:
        await read_body(receive)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/octet-stream")],
            }
        )
        while sent["bytes"] < total:
            await send({"type": "http.response.body", "body": part, "more_body": True})
            sent["bytes"] += len(part)
            sample()
        await send({"type": "http.response.body", "body": b""})

    async def scenario() -> None:
        async with rig(tmp_path, answer) as r:
            holder["pool"] = r.pool
            browser = Browser()
            browser.hold = asyncio.Event()
            browser.on_send = sample
            call = asyncio.ensure_future(r.call(browser=browser))
            await eventually(lambda: r.pool._all and only_connection(r.pool)._reading_paused)
            conn = only_connection(r.pool)
            assert conn._buffered <= READ_HIGH_WATER + ONE_READ
            assert sent["bytes"] < total  # the service waits too
            browser.hold.set()
            await asyncio.wait_for(call, 10)
        assert browser.body == part * (total // len(part)) and browser.complete
        assert max(buffered) <= READ_HIGH_WATER + ONE_READ

    run(loop, scenario)


def test_error_envelopes_are_json(loop: str) -> None:
    """Every refusal `forward` makes is the platform's JSON envelope."""

    async def opener() -> socket.socket:
        raise OpenerError("refused", ErrorCode.UPSTREAM_REFUSED)

    async def scenario() -> None:
        browser = await through(opener)
        assert browser.status == 502
        assert browser.values("content-type") == ["application/json"]
        assert json.loads(browser.body)["error"] == ErrorCode.UPSTREAM_REFUSED.value

    run(loop, scenario)
