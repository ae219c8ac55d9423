"""Wire protocol between the control plane and a user's `oqto-runner` (protocol v1).

The runner serves one Linux account on a Unix stream socket and treats every byte it
reads as hostile; the control plane does the same with what the runner answers.

Framing: UTF-8 JSON, one object per line, each line at most `MAX_FRAME_BYTES` (1 MiB, on
both ends) before its newline. Empty lines are ignored. An oversize line is reported as
`frame_too_large` and skipped up to its newline; a line that is not UTF-8, not JSON or
not an object is `bad_frame`. Either way the connection stays usable.

Messages, told apart by `type`:

    {"type":"hello","protocol":1,"agent":"..."}         client first; the server answers
                                                        with `"uid":int,"user":str` added
    {"type":"request","id":1..2**53,"method":"...","params":{...}}
    {"type":"response","id":N,"result":{...}}
    {"type":"error","id":N|null,"error":{"code":"...","message":"..."}}
    {"type":"event","event":"session.state","data":{SessionEvent}}  to subscribers

Requests may overlap on one connection; replies match by id, and an error's id is null
when the offending frame had no usable one. The server refuses another protocol version
with `unsupported_version` and anything before the hello with `handshake_required`.

Methods (params -> result); each `Method.*` is a `RunnerMethod` holding the exact schemas:

    ping          {}                                  -> {pong, uid, version}
    subscribe     {}                                  -> {}
    session.start {spec: SessionSpec}                 -> {session: SessionRuntime}
    session.stop  {id}                                -> {}
    session.get   {id}                                -> {session: SessionRuntime|null}
    session.list  {}                                  -> {sessions: [SessionRuntime]}
    session.connect {id, service}                     -> {service} + the connected socket
                                                        (SCM_RIGHTS); the runner then closes

Workspace names come out normalised by `check_workspace_name`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, NoReturn

from pydantic import BaseModel, TypeAdapter, ValidationError

from oqto.protocol.errors import ErrorCode
from oqto.protocol.runner_methods import (
    EVENT_MODELS,
    EVENT_SESSION_STATE,
    METHODS,
    CheckedSessionSpec,
    Empty,
    Method,
    ParamsT,
    PingResult,
    ResultT,
    RunnerMethod,
    SessionConnectParams,
    SessionConnectResult,
    SessionGetResult,
    SessionIdParams,
    SessionListResult,
    SessionResult,
    SessionStartParams,
    parse_event,
    parse_params,
)
from oqto.protocol.runner_schema import (
    MAX_FRAME_BYTES,
    MAX_REQUEST_ID,
    MESSAGE_TYPES,
    PROTOCOL_VERSION,
    ErrorBody,
    ErrorMessage,
    EventMessage,
    HelloMessage,
    Message,
    ProtocolError,
    RequestMessage,
    ResponseMessage,
    describe,
)

__all__ = [
    "EVENT_MODELS",
    "EVENT_SESSION_STATE",
    "MAX_FRAME_BYTES",
    "MAX_REQUEST_ID",
    "METHODS",
    "PROTOCOL_VERSION",
    "CheckedSessionSpec",
    "Empty",
    "ErrorBody",
    "ErrorCode",
    "ErrorMessage",
    "EventMessage",
    "FrameReader",
    "HelloMessage",
    "Message",
    "Method",
    "ParamsT",
    "PingResult",
    "ProtocolError",
    "RequestMessage",
    "ResponseMessage",
    "ResultT",
    "RunnerMethod",
    "SessionConnectParams",
    "SessionConnectResult",
    "SessionGetResult",
    "SessionIdParams",
    "SessionListResult",
    "SessionResult",
    "SessionStartParams",
    "decode_frame",
    "encode",
    "parse_event",
    "parse_message",
    "parse_params",
]

_READ_CHUNK = 64 << 10
_MESSAGE_ADAPTER: TypeAdapter[Message] = TypeAdapter(Message)


def encode(message: BaseModel) -> bytes:
    """One frame, newline included. ValueError if it would exceed `MAX_FRAME_BYTES` or holds
    text that is not valid Unicode (a lone surrogate)."""
    frame = message.model_dump_json().encode("utf-8")
    if len(frame) > MAX_FRAME_BYTES:
        raise ValueError(f"frame of {len(frame)} bytes exceeds the limit of {MAX_FRAME_BYTES}")
    return frame + b"\n"


class FrameReader:
    """Splits a stream into decoded frames, holding at most `max_frame_bytes` plus one read
    chunk in memory however long a line the peer sends."""

    def __init__(
        self, reader: asyncio.StreamReader, max_frame_bytes: int = MAX_FRAME_BYTES
    ) -> None:
        if max_frame_bytes < 1:
            raise ValueError("max_frame_bytes must be positive")
        self._reader = reader
        self._max = max_frame_bytes
        self._buffer = bytearray()
        self._scanned = 0  # the buffer's first bytes known to hold no newline
        self._discarding = False  # inside an oversize line that was already reported
        self._eof = False

    async def next_frame(self) -> dict[str, Any] | ProtocolError | None:
        """The next JSON object, a ProtocolError for a line that is not one (read on after
        it), or None at the end of the stream. Transport errors propagate."""
        while True:
            line = await self._next_line()
            if line is None or isinstance(line, ProtocolError):
                return line
            if line.strip(b" \t\r"):
                return decode_frame(line)

    async def _next_line(self) -> bytes | ProtocolError | None:
        while True:
            newline = self._buffer.find(b"\n", self._scanned)
            if newline >= 0:
                line = bytes(self._buffer[:newline])
                del self._buffer[: newline + 1]
                self._scanned = 0
                if self._discarding:
                    self._discarding = False
                    continue
                return _too_large(self._max) if len(line) > self._max else line
            if self._discarding:
                self._buffer.clear()
            elif len(self._buffer) > self._max:
                # Report now rather than at the newline: the peer may never send one.
                self._buffer.clear()
                self._discarding = True
                return _too_large(self._max)
            self._scanned = len(self._buffer)
            if self._eof:
                # A last line without its newline still counts; a half-sent frame will not
                # parse anyway.
                line = bytes(self._buffer)
                self._buffer.clear()
                self._scanned = 0
                return line or None
            chunk = await self._reader.read(_READ_CHUNK)
            if chunk:
                self._buffer += chunk
            else:
                self._eof = True


def _too_large(limit: int) -> ProtocolError:
    return ProtocolError(ErrorCode.FRAME_TOO_LARGE, f"frame longer than {limit} bytes")


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def decode_frame(line: bytes) -> dict[str, Any] | ProtocolError:
    """One line (without its newline) as a JSON object, or the ProtocolError saying why not."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return ProtocolError(ErrorCode.BAD_FRAME, "frame is not valid UTF-8")
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return ProtocolError(ErrorCode.BAD_FRAME, "frame is not valid JSON")
    if not isinstance(value, dict):
        return ProtocolError(ErrorCode.BAD_FRAME, "frame is not a JSON object")
    # Raw UTF-8 was checked above, so only a \u escape can smuggle in a lone surrogate.
    if "\\u" in text and _has_lone_surrogate(value):
        return ProtocolError(ErrorCode.BAD_FRAME, "frame holds an unpaired \\u surrogate")
    return value


def _has_lone_surrogate(value: object) -> bool:
    # Such a string cannot be encoded again, so it would break replies and file names
    # further on. Iterative: JSON nesting may be deeper than Python's recursion limit allows.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def parse_message(frame: dict[str, Any]) -> Message:
    """Validate a decoded frame as one of the message kinds; ProtocolError(invalid_message)
    otherwise, carrying the frame's id when it has a usable one."""
    request_id = _usable_id(frame.get("id"))
    kind = frame.get("type")
    if not isinstance(kind, str) or kind not in MESSAGE_TYPES:
        raise ProtocolError(
            ErrorCode.INVALID_MESSAGE,
            f"type: must be one of {', '.join(MESSAGE_TYPES)}",
            request_id,
        )
    try:
        return _MESSAGE_ADAPTER.validate_python(frame)
    except ValidationError as exc:
        # The first location part is the tag the union picked, not a field.
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, describe(exc, skip=1), request_id) from None


def _usable_id(value: object) -> int | None:
    if type(value) is int and 1 <= value <= MAX_REQUEST_ID:
        return value
    return None
