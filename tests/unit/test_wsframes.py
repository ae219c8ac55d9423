"""Frame boundaries of a relayed WebSocket stream (oqto.control.proxy.wsframes)."""

from __future__ import annotations

import random

import pytest
from websockets.frames import Close, Frame, Opcode

from oqto.control.proxy.wsframes import (
    MESSAGE_TOO_BIG,
    PROTOCOL_ERROR,
    FrameScanner,
    close_frame,
)


def frame(opcode: Opcode, payload: bytes, *, fin: bool = True, mask: bool = False) -> bytes:
    return Frame(opcode, payload, fin=fin).serialize(mask=mask)


def passed_on(scanner: FrameScanner, stream: bytes, cuts: list[int]) -> tuple[bytes, int]:
    """Feed `stream` in the pieces `cuts` makes; what goes out, and the first problem."""
    out = b""
    for begin, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        data = stream[begin:end]
        held, upto, problem = scanner.scan(data)
        out += held + data[:upto]
        if problem:
            return out, problem
    return out, 0


@pytest.mark.parametrize("mask", [False, True])
def test_any_split_passes_everything_and_ends_at_boundaries(mask: bool) -> None:
    rng = random.Random(7)
    frames = [
        frame(Opcode.BINARY, b"0" + rng.randbytes(n), mask=mask) for n in (0, 3, 125, 126, 70000)
    ] + [
        frame(Opcode.TEXT, b"part", fin=False, mask=mask),
        frame(Opcode.PING, b"p", mask=mask),  # control frames may come inside a message
        frame(Opcode.CONT, b"rest", mask=mask),
        frame(Opcode.CLOSE, Close(1000, "bye").serialize(), mask=mask),
    ]
    stream = b"".join(frames)
    ends = {sum(len(f) for f in frames[:i]) for i in range(len(frames) + 1)}
    for _ in range(200):
        cuts = sorted(rng.sample(range(1, len(stream)), rng.randint(1, 40)))
        scanner = FrameScanner(1 << 20, masked=mask)
        out = b""
        for begin, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
            data = stream[begin:end]
            held, upto, problem = scanner.scan(data)
            assert problem == 0
            out += held + data[:upto]
            # What has gone out ends at a boundary exactly when the scanner says so.
            assert scanner.at_boundary == (len(out) in ends)
        assert out == stream
        assert scanner.closed


def test_byte_by_byte() -> None:
    stream = frame(Opcode.BINARY, b"x" * 300) + frame(Opcode.TEXT, b"y")
    assert passed_on(FrameScanner(1000, masked=False), stream, list(range(1, len(stream)))) == (
        stream,
        0,
    )


def test_an_oversize_message_is_refused_before_any_of_it_goes_out() -> None:
    small = frame(Opcode.BINARY, b"ok")
    big = frame(Opcode.BINARY, b"x" * 2000)
    assert passed_on(FrameScanner(1000, masked=False), small + big, []) == (small, MESSAGE_TOO_BIG)
    # Fragments count together.
    parts = frame(Opcode.BINARY, b"x" * 600, fin=False) + frame(Opcode.CONT, b"x" * 600)
    out, problem = passed_on(FrameScanner(1000, masked=False), parts, [])
    assert problem == MESSAGE_TOO_BIG
    assert out == parts[: len(frame(Opcode.BINARY, b"x" * 600, fin=False))]
    # A declared 300 MiB frame is refused from its header alone.
    header = b"\x82\x7f" + (300 << 20).to_bytes(8, "big")
    assert passed_on(FrameScanner(1 << 20, masked=False), header, []) == (b"", MESSAGE_TOO_BIG)


@pytest.mark.parametrize(
    "bad",
    [
        frame(Opcode.BINARY, b"x", mask=True),  # a server's frame must not be masked
        bytes([0x83, 0x00]),  # unknown data opcode
        bytes([0x8B, 0x00]),  # unknown control opcode
        bytes([0x09, 0x01]) + b"p",  # fragmented control frame
        bytes([0x89, 126, 0, 126]) + b"x" * 126,  # control frame over 125 bytes
        frame(Opcode.CONT, b"x"),  # continuation without a message
        frame(Opcode.TEXT, b"a", fin=False) + frame(Opcode.TEXT, b"b"),  # new message inside one
    ],
)
def test_malformed_frames_are_refused(bad: bytes) -> None:
    out, problem = passed_on(FrameScanner(1000, masked=False), bad, [])
    assert problem == PROTOCOL_ERROR
    assert len(out) < len(bad)


def test_a_client_frame_must_be_masked() -> None:
    plain = frame(Opcode.BINARY, b"x")
    assert passed_on(FrameScanner(1000, masked=True), plain, []) == (b"", PROTOCOL_ERROR)


def test_stopping_passes_only_the_rest_of_the_current_frame() -> None:
    first, second = frame(Opcode.BINARY, b"a" * 500), frame(Opcode.BINARY, b"b")
    scanner = FrameScanner(1000, masked=False)
    stream = first + second
    held, upto, _ = scanner.scan(stream[:100])
    assert (held, upto) == (b"", 100)
    held, upto, problem = scanner.scan(stream[100:], frames=False)
    assert (held, upto, problem) == (b"", len(first) - 100, 0)
    assert scanner.at_boundary


def test_close_frame() -> None:
    assert close_frame(1008, "signed out") == b"\x88\x0c\x03\xf0signed out"
