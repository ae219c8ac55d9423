import json
from typing import Any

import pytest
from pydantic import BaseModel
from tests.unit.protocol.frames import decode_all

from oqto.protocol.runner import (
    MAX_REQUEST_ID,
    PROTOCOL_VERSION,
    ErrorBody,
    ErrorCode,
    ErrorMessage,
    EventMessage,
    HelloMessage,
    ProtocolError,
    RequestMessage,
    ResponseMessage,
    encode,
    parse_message,
)
from oqto.protocol.sessions import RuntimeState, SessionEvent

MESSAGES: list[BaseModel] = [
    HelloMessage(protocol=PROTOCOL_VERSION, agent="oqto-control/0.1"),
    HelloMessage(protocol=PROTOCOL_VERSION, agent="oqto-runner/0.1", uid=1001, user="alice"),
    RequestMessage(id=1, method="ping"),
    RequestMessage(id=MAX_REQUEST_ID, method="session.stop", params={"id": "abc"}),
    ResponseMessage(id=1, result={"pong": True, "uid": 1001, "version": "0.1"}),
    ResponseMessage(id=2),
    ErrorMessage(id=3, error=ErrorBody(code=ErrorCode.NOT_FOUND, message="no such session")),
    ErrorMessage(id=None, error=ErrorBody(code=ErrorCode.BAD_FRAME, message="not JSON")),
    EventMessage(
        event="session.state",
        data=SessionEvent(
            session_id="abc", state=RuntimeState.FAILED, error="agent died"
        ).model_dump(mode="json"),
    ),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: m.type)
def test_every_message_kind_round_trips(message: BaseModel) -> None:
    [frame] = decode_all(encode(message))
    assert isinstance(frame, dict)
    assert parse_message(frame) == message


def test_client_hello_has_no_server_fields_on_the_wire() -> None:
    assert encode(HelloMessage(protocol=1, agent="a")) == (
        b'{"type":"hello","protocol":1,"agent":"a"}\n'
    )


def test_error_with_no_id_sends_null() -> None:
    frame = encode(ProtocolError(ErrorCode.BAD_FRAME, "nope").to_message())
    assert frame == b'{"type":"error","id":null,"error":{"code":"bad_frame","message":"nope"}}\n'


def test_protocol_error_to_message_keeps_the_request_id() -> None:
    error = ProtocolError(ErrorCode.INVALID_PARAMS, "spec.id: bad", request_id=9)
    assert error.code is ErrorCode.INVALID_PARAMS
    assert error.to_message() == ErrorMessage(
        id=9, error=ErrorBody(code=ErrorCode.INVALID_PARAMS, message="spec.id: bad")
    )
    assert str(error) == "spec.id: bad"


@pytest.mark.parametrize(
    "code", [ErrorCode.PATH_TOO_LONG, ErrorCode.INVALID_WORKSPACE, ErrorCode.START_FAILED]
)
def test_a_user_plane_code_keeps_its_meaning_across_the_wire(code: ErrorCode) -> None:
    frame = encode(ProtocolError(code, "why", request_id=4).to_message())
    message = parse_message(json.loads(frame))
    assert isinstance(message, ErrorMessage)
    assert message.error.code is code


def test_an_unknown_error_code_from_the_peer_becomes_internal() -> None:
    message = parse_message(
        {"type": "error", "id": 4, "error": {"code": "from_the_future", "message": "m"}}
    )
    assert isinstance(message, ErrorMessage)
    assert message.error.code is ErrorCode.INTERNAL
    assert message.error.message == "m"


def test_request_and_response_params_default_to_empty() -> None:
    request = parse_message({"type": "request", "id": 5, "method": "ping"})
    response = parse_message({"type": "response", "id": 5})
    assert isinstance(request, RequestMessage)
    assert isinstance(response, ResponseMessage)
    assert request.params == {}
    assert response.result == {}


def _invalid(frame: dict[str, Any]) -> ProtocolError:
    with pytest.raises(ProtocolError) as caught:
        parse_message(frame)
    assert caught.value.code is ErrorCode.INVALID_MESSAGE
    return caught.value


@pytest.mark.parametrize(
    "frame",
    [{}, {"type": None}, {"type": 1}, {"type": "Hello"}, {"type": "x" * 10_000}, {"id": 1}],
)
def test_missing_or_unknown_type(frame: dict[str, Any]) -> None:
    error = _invalid(frame)
    assert error.message.startswith("type:")
    assert len(error.message) < 200


@pytest.mark.parametrize(
    ("frame", "field"),
    [
        ({"type": "hello", "agent": "a"}, "protocol"),
        ({"type": "hello", "protocol": 1}, "agent"),
        ({"type": "hello", "protocol": "1", "agent": "a"}, "protocol"),
        ({"type": "hello", "protocol": 1.0, "agent": "a"}, "protocol"),
        ({"type": "hello", "protocol": True, "agent": "a"}, "protocol"),
        ({"type": "hello", "protocol": 1, "agent": "a" * 101}, "agent"),
        ({"type": "hello", "protocol": 1, "agent": 7}, "agent"),
        ({"type": "hello", "protocol": 1, "agent": "a", "uid": 1}, "uid and user"),
        ({"type": "hello", "protocol": 1, "agent": "a", "user": "u"}, "uid and user"),
        ({"type": "hello", "protocol": 1, "agent": "a", "extra": 1}, "extra"),
        ({"type": "request", "method": "ping", "params": {}}, "id"),
        ({"type": "request", "id": 1, "params": {}}, "method"),
        ({"type": "request", "id": 0, "method": "ping"}, "id"),
        ({"type": "request", "id": -1, "method": "ping"}, "id"),
        ({"type": "request", "id": MAX_REQUEST_ID + 1, "method": "ping"}, "id"),
        ({"type": "request", "id": "1", "method": "ping"}, "id"),
        ({"type": "request", "id": True, "method": "ping"}, "id"),
        ({"type": "request", "id": None, "method": "ping"}, "id"),
        ({"type": "request", "id": 1, "method": "ping", "params": []}, "params"),
        ({"type": "request", "id": 1, "method": "m" * 101}, "method"),
        ({"type": "request", "id": 1, "method": "ping", "result": {}}, "result"),
        ({"type": "response", "result": {}}, "id"),
        ({"type": "response", "id": 1, "result": None}, "result"),
        ({"type": "error", "error": {"code": "busy", "message": "m"}}, "id"),
        ({"type": "error", "id": None}, "error"),
        ({"type": "error", "id": None, "error": {"code": "busy"}}, "error.message"),
        ({"type": "error", "id": None, "error": {"code": 3, "message": "m"}}, "error.code"),
        ({"type": "error", "id": None, "error": {"code": "busy", "message": "m", "x": 1}}, "x"),
        ({"type": "event", "data": {}}, "event"),
        ({"type": "event", "event": "session.state", "data": "x"}, "data"),
    ],
)
def test_malformed_messages_name_the_field(frame: dict[str, Any], field: str) -> None:
    assert field in _invalid(frame).message


def test_error_carries_a_usable_request_id() -> None:
    assert _invalid({"type": "request", "id": 12, "params": {}}).request_id == 12
    assert _invalid({"type": "bogus", "id": 13}).request_id == 13
    assert _invalid({"type": "request", "id": "12", "method": "ping"}).request_id is None
    assert _invalid({"type": "request", "id": True, "method": "ping"}).request_id is None
    assert _invalid({"type": "request", "id": 2**60, "method": "ping"}).request_id is None


def test_error_messages_stay_short_and_encodable_whatever_the_peer_sends() -> None:
    extra = {f"k{i}" + "\u2603" * 5000: i for i in range(50)}
    error = _invalid({"type": "hello", "protocol": 1, "agent": "a", **extra})
    assert "and 47 more" in error.message
    assert len(error.message) < 1000
    assert encode(error.to_message())
