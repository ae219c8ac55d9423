"""Where the frames of a WebSocket byte stream begin and end (RFC 6455 5.2), for a relay
that passes them through without decoding them.

The relay needs three things from a direction's bytes: the message size bound (a frame's
declared length is read before any of its payload, so an oversize message is refused
before a byte of it is passed on or held), a frame boundary at which it may put a close
frame of its own into the stream, and enough well-formedness for those two to be right
(masking as the direction requires, known opcodes, continuation only inside a message,
short unfragmented control frames). Everything else (payload, UTF-8, extension bits) is
the two ends' business: they check it themselves.

A header split across reads is held back (at most 14 bytes) until it is complete, so
what has been passed on always ends at a frame boundary or inside a payload.
"""

from __future__ import annotations

from websockets.frames import Close, Frame, Opcode

PROTOCOL_ERROR = 1002
MESSAGE_TOO_BIG = 1009
# Opcodes as plain ints: this runs per frame.
_CONT, _BINARY, _CLOSE, _PONG = 0x0, 0x2, 0x8, 0xA
_MAX_CONTROL = 125


def close_frame(code: int, reason: str) -> bytes:
    """A close frame as a server sends it (unmasked)."""
    return Frame(Opcode.CLOSE, Close(code, reason).serialize()).serialize(mask=False)


class FrameScanner:
    """One direction of a connection. `masked`: whether its frames must be masked (a
    client's are, a server's are not)."""

    __slots__ = ("_held", "_in_message", "_message", "_remaining", "closed", "masked", "max")

    def __init__(self, max_message: int, *, masked: bool) -> None:
        self.max = max_message
        self.masked = masked
        self.closed = False  # a close frame has begun
        self._held = b""
        self._remaining = 0  # payload bytes of the current frame still to come
        self._message = 0  # payload bytes of the current (fragmented) message so far
        self._in_message = False

    @property
    def at_boundary(self) -> bool:
        """Whether everything passed on so far ends with a complete frame."""
        return self._remaining == 0

    def scan(self, data: bytes, *, frames: bool = True) -> tuple[bytes, int, int]:
        """Returns `(held, end, problem)`: pass on `held` (a header completed by this
        read), then `data[:end]`. `problem` is 0, or the close code for the frame whose
        header begins at `data[end]`, of which nothing may be passed on. With `frames`
        false only the rest of the current frame goes out, so that the stream stops at
        its next boundary."""
        pos, held = 0, b""
        if self._held:
            if not frames:
                return b"", 0, 0
            joined = self._held + data[:14]
            size = _header_size(joined, 0)
            if size is None:
                self._held = joined
                return b"", 0, 0
            problem = self._begin(joined, 0)
            if problem:
                return b"", 0, problem
            pos = size - len(self._held)
            held, self._held = self._held, b""
        end = len(data)
        while True:
            if self._remaining:
                step = min(self._remaining, end - pos)
                pos += step
                self._remaining -= step
            if pos == end or not frames:
                return held, pos, 0
            size = _header_size(data, pos)
            if size is None:
                self._held = data[pos:]
                return held, pos, 0
            problem = self._begin(data, pos)
            if problem:
                return held, pos, problem
            pos += size

    def _begin(self, buf: bytes, pos: int) -> int:
        """Take in the complete header at `buf[pos]`; 0, or why the frame is refused."""
        first, second = buf[pos], buf[pos + 1]
        length = second & 0x7F
        offset = pos + 2
        if length == 126:
            length = int.from_bytes(buf[offset : offset + 2], "big")
        elif length == 127:
            length = int.from_bytes(buf[offset : offset + 8], "big")
        if bool(second & 0x80) != self.masked:
            return PROTOCOL_ERROR
        opcode = first & 0x0F
        if opcode >= _CLOSE:
            if opcode > _PONG or not first & 0x80 or length > _MAX_CONTROL:
                return PROTOCOL_ERROR
            self.closed = self.closed or opcode == _CLOSE
        else:
            if opcode > _BINARY or (opcode == _CONT) != self._in_message:
                return PROTOCOL_ERROR
            self._message = self._message + length if opcode == _CONT else length
            if self._message > self.max:
                return MESSAGE_TOO_BIG
            self._in_message = not first & 0x80
        self._remaining = length
        return 0


def _header_size(buf: bytes, pos: int) -> int | None:
    """The size of the header at `buf[pos]`, or None while it is incomplete."""
    if len(buf) - pos < 2:
        return None
    second = buf[pos + 1]
    length = second & 0x7F
    size = 2 + (4 if second & 0x80 else 0) + (2 if length == 126 else 8 if length == 127 else 0)
    return size if len(buf) - pos >= size else None
