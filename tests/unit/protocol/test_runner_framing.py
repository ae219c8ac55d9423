import asyncio
import json

import pytest
from tests.unit.protocol.frames import codes, decode_all

from oqto.protocol.runner import (
    MAX_FRAME_BYTES,
    ErrorCode,
    FrameReader,
    HelloMessage,
    ProtocolError,
    RequestMessage,
    ResponseMessage,
    encode,
)

PING = b'{"type":"request","id":1,"method":"ping","params":{}}\n'


def test_encode_is_compact_json_and_a_newline() -> None:
    frame = encode(RequestMessage(id=7, method="ping"))
    assert frame == b'{"type":"request","id":7,"method":"ping","params":{}}\n'


def test_encode_keeps_non_ascii_as_utf8() -> None:
    frame = encode(HelloMessage(protocol=1, agent="héllo"))
    assert "héllo".encode() in frame
    assert frame.count(b"\n") == 1


def test_encode_refuses_a_frame_over_the_limit() -> None:
    def of_size(size: int) -> ResponseMessage:
        overhead = len(encode(ResponseMessage(id=1, result={"x": ""}))) - 1
        return ResponseMessage(id=1, result={"x": "a" * (size - overhead)})

    assert len(encode(of_size(MAX_FRAME_BYTES))) == MAX_FRAME_BYTES + 1
    with pytest.raises(ValueError, match="exceeds the limit"):
        encode(of_size(MAX_FRAME_BYTES + 1))


def test_encode_refuses_a_lone_surrogate() -> None:
    with pytest.raises(ValueError):
        encode(HelloMessage(protocol=1, agent="\ud800"))


def test_reader_refuses_a_non_positive_limit() -> None:
    async def build() -> FrameReader:
        return FrameReader(asyncio.StreamReader(), 0)

    with pytest.raises(ValueError):
        asyncio.run(build())


def test_several_frames_in_one_chunk() -> None:
    frames = decode_all(PING + b'{"a":1}\n' + b'{"b":[true,null]}\n')
    assert frames == [json.loads(PING), {"a": 1}, {"b": [True, None]}]


def test_frame_split_into_single_bytes() -> None:
    frames = decode_all([bytes([b]) for b in PING * 2])
    assert frames == [json.loads(PING)] * 2


def test_empty_and_blank_lines_are_ignored() -> None:
    assert decode_all(b"\n\n  \r\n\t\n" + PING + b"\n") == [json.loads(PING)]


def test_crlf_line_endings_are_accepted() -> None:
    assert decode_all(PING.replace(b"\n", b"\r\n")) == [json.loads(PING)]


def test_empty_stream_is_just_eof() -> None:
    assert decode_all(b"") == []


def test_last_line_without_newline_still_counts() -> None:
    assert decode_all(PING.rstrip(b"\n")) == [json.loads(PING)]


def test_frame_of_exactly_the_limit_is_accepted() -> None:
    body = PING.rstrip(b"\n")
    assert codes(decode_all(PING, max_frame_bytes=len(body))) == ["ok"]
    assert codes(decode_all(PING, max_frame_bytes=len(body) - 1)) == ["frame_too_large"]


@pytest.mark.parametrize("size", [65, 1000, 200_000])
def test_oversize_frame_is_skipped_and_the_next_one_parses(size: int) -> None:
    oversize = b'{"x":"' + b"a" * size + b'"}\n'
    frames = decode_all(oversize + PING, max_frame_bytes=64)
    assert codes(frames) == ["frame_too_large", "ok"]
    assert frames[1] == json.loads(PING)


def test_oversize_frames_back_to_back_across_chunks() -> None:
    data = (b"x" * 300 + b"\n") * 3 + PING
    chunks = [data[i : i + 7] for i in range(0, len(data), 7)]
    assert codes(decode_all(chunks, max_frame_bytes=100)) == ["frame_too_large"] * 3 + ["ok"]


def test_oversize_frame_at_eof_is_reported_once() -> None:
    assert codes(decode_all(b"y" * 500, max_frame_bytes=100)) == ["frame_too_large"]


async def _oversize_is_reported_before_its_newline() -> list[str]:
    # The peer may stream an endless line: the error must come without buffering it all.
    reader = asyncio.StreamReader()
    frames = FrameReader(reader, max_frame_bytes=1000)
    reader.feed_data(b"z" * 5000)
    first = await asyncio.wait_for(frames.next_frame(), 1)
    for _ in range(100):
        reader.feed_data(b"z" * 10_000)
    reader.feed_data(b"\n" + PING)
    reader.feed_eof()
    rest = [await frames.next_frame(), await frames.next_frame()]
    return codes([f for f in [first, *rest] if f is not None])


def test_oversize_frame_is_reported_before_its_newline() -> None:
    assert asyncio.run(_oversize_is_reported_before_its_newline()) == ["frame_too_large", "ok"]


def test_default_limit_is_one_mebibyte() -> None:
    at_limit = b'{"x":"' + b"a" * (MAX_FRAME_BYTES - 8) + b'"}'
    assert len(at_limit) == MAX_FRAME_BYTES
    frames = decode_all(at_limit + b"\n" + b"[" + at_limit + b"]\n" + PING)
    assert codes(frames) == ["ok", "frame_too_large", "ok"]


@pytest.mark.parametrize(
    ("line", "why"),
    [
        (b"\xff\xfe{}", "UTF-8"),
        (b'{"a":"\xc3"}', "UTF-8"),
        (b'{"a":"\xed\xa0\x80"}', "UTF-8"),  # a surrogate encoded directly
        (b"{", "JSON"),
        (b'{"a":1,}', "JSON"),
        (b"{'a':1}", "JSON"),
        (b'{"a":NaN}', "JSON"),
        (b'{"a":-Infinity}', "JSON"),
        (b'{"a":' + b"9" * 5000 + b"}", "JSON"),  # past Python's int digit limit
        (b"[" * 100_000 + b"]" * 100_000, "JSON"),  # past the recursion limit
        (b"\xef\xbb\xbf{}", "JSON"),  # byte order mark
        (b"[]", "object"),
        (b'"hello"', "object"),
        (b"42", "object"),
        (b"null", "object"),
        (b'{"a":"\\ud800"}', "surrogate"),
        (b'{"\\udfff":1}', "surrogate"),
        (b'{"a":[{"b":"x\\uDC00"}]}', "surrogate"),
    ],
)
def test_bad_frame_then_the_connection_stays_usable(line: bytes, why: str) -> None:
    frames = decode_all(line + b"\n" + PING)
    assert codes(frames) == ["bad_frame", "ok"]
    error = frames[0]
    assert isinstance(error, ProtocolError)
    assert error.code is ErrorCode.BAD_FRAME
    assert why in error.message
    assert error.request_id is None


def test_escaped_surrogate_pair_and_escaped_backslash_are_fine() -> None:
    frames = decode_all(b'{"a":"\\ud83d\\ude00","b":"\\\\ud800"}\n')
    assert frames == [{"a": "\U0001f600", "b": "\\ud800"}]
