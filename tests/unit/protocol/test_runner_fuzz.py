"""Property tests: whatever a peer sends, decoding yields frames or ProtocolErrors, never
another exception or a hang, and the stream recovers at the next newline."""

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from tests.unit.protocol.frames import Frame, decode_all

from oqto.protocol.runner import (
    METHODS,
    ErrorCode,
    EventMessage,
    ProtocolError,
    RequestMessage,
    ResponseMessage,
    encode,
    parse_event,
    parse_message,
    parse_params,
)
from oqto.protocol.sessions import SessionEvent

VALID = RequestMessage(id=42, method="session.get", params={"id": "abc"})
VALID_FRAME = encode(VALID)

GARBAGE = [b"\n", b"\r\n", b"{", b"}", b'"', b"\\u", b"\\ud800", b"\xff", b"\xc3", b"{}"]

leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)

# Plausible values per field name, good and bad, so generated messages get past the
# envelope and exercise the params, result and event models too.
SAMPLES: dict[str, list[Any]] = {
    "id": ["abc", "a1", "ABC", "", "a" * 65, 1, 2**53],
    "session_id": ["abc", "ABC"],
    "owner": ["alice", "Alice", "1x", ""],
    "workspace": ["proj", "team/proj", "../x", "/etc", "a/./b", ""],
    "service": ["agent", "files", "terminal", "shell"],
    "state": ["running", "failed", "exploded"],
    "pong": [True, False],
    "uid": [0, 1000, "1000"],
}


def field_values(name: str) -> st.SearchStrategy[Any]:
    if name == "spec":
        return st.fixed_dictionaries(
            {}, optional={k: field_values(k) for k in ("id", "owner", "workspace", "extra")}
        )
    if name in ("session", "sessions"):
        runtime = st.fixed_dictionaries(
            {"id": field_values("id"), "workspace": field_values("workspace")},
            optional={"workspace_path": st.text(max_size=5), "state": field_values("state")},
        )
        return st.lists(runtime, max_size=2) if name == "sessions" else runtime | st.none()
    return st.sampled_from(SAMPLES.get(name, [""])) | leaves


def fields_of(model: type[BaseModel]) -> st.SearchStrategy[dict[str, Any]]:
    names = [*model.model_fields, "extra"]
    return st.fixed_dictionaries({}, optional={name: field_values(name) for name in names})


request_ids = st.integers(min_value=1, max_value=9) | st.integers(min_value=-1, max_value=2**54)
requests = st.sampled_from(list(METHODS.values())).flatmap(
    lambda method: st.fixed_dictionaries(
        {"type": st.just("request"), "id": request_ids, "method": st.just(method.name)},
        optional={"params": fields_of(method.params) | json_values},
    )
)
responses = st.fixed_dictionaries(
    {"type": st.just("response"), "id": request_ids},
    optional={"result": st.sampled_from([m.result for m in METHODS.values()]).flatmap(fields_of)},
)
errors = st.fixed_dictionaries(
    {
        "type": st.just("error"),
        "id": request_ids | st.none(),
        "error": st.fixed_dictionaries(
            {"code": st.sampled_from(list(ErrorCode)) | leaves, "message": leaves}
        ),
    }
)
events = st.fixed_dictionaries(
    {
        "type": st.just("event"),
        "event": st.sampled_from(["session.state", "other"]),
        "data": fields_of(SessionEvent),
    }
)
hellos = st.fixed_dictionaries(
    {"type": st.just("hello"), "protocol": st.integers(0, 2), "agent": leaves},
    optional={"uid": field_values("uid"), "user": leaves, "extra": leaves},
)
message_like = requests | responses | errors | events | hellos


def exercise(frame: Frame) -> None:
    """Everything either end does with a decoded frame: only ProtocolError may escape, every
    error must be sendable back, and every accepted message must be sendable on."""
    if isinstance(frame, ProtocolError):
        encode(frame.to_message())
        return
    assert isinstance(frame, dict)
    try:
        message = parse_message(frame)
        encode(message)
        if isinstance(message, RequestMessage):
            parse_params(message.method, message.params, request_id=message.id)
        elif isinstance(message, ResponseMessage):
            for method in METHODS.values():
                try:
                    method.parse_result(message.result, request_id=message.id)
                except ProtocolError as exc:
                    encode(exc.to_message())
        elif isinstance(message, EventMessage):
            parse_event(message)
    except ProtocolError as exc:
        encode(exc.to_message())


@settings(max_examples=300, deadline=None)
@given(
    garbage=st.lists(st.binary(max_size=200) | st.sampled_from(GARBAGE), max_size=12),
    max_frame_bytes=st.integers(min_value=len(VALID_FRAME) - 1, max_value=400),
)
def test_arbitrary_bytes_then_a_valid_frame(garbage: list[bytes], max_frame_bytes: int) -> None:
    frames = decode_all([*garbage, b"\n", VALID_FRAME], max_frame_bytes)
    for frame in frames:
        exercise(frame)
    last = frames[-1]
    assert isinstance(last, dict)
    assert parse_message(last) == VALID


@settings(max_examples=200, deadline=None)
@given(values=st.lists(message_like | json_values, max_size=3), ascii_only=st.booleans())
def test_arbitrary_json_values(values: list[Any], ascii_only: bool) -> None:
    data = b"".join(json.dumps(v, ensure_ascii=ascii_only).encode() + b"\n" for v in values)
    frames = decode_all(data + VALID_FRAME)
    assert len(frames) == len(values) + 1
    for value, frame in zip(values, frames, strict=False):
        if isinstance(value, dict):
            assert frame == value
        else:
            assert isinstance(frame, ProtocolError)
            assert frame.code is ErrorCode.BAD_FRAME
        exercise(frame)
    assert frames[-1] == json.loads(VALID_FRAME)
