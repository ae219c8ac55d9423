import base64
from typing import Any

import pytest
from tests.unit.protocol.frames import decode_all

from oqto.protocol.runner import (
    DEFAULT_LOG_BYTES,
    EVENT_SESSION_STATE,
    MAX_FILE_BYTES,
    PARAM_MODELS,
    RESULT_MODELS,
    CheckedSessionSpec,
    Empty,
    ErrorCode,
    EventMessage,
    FilesPathParams,
    FilesReadParams,
    FilesReadResult,
    FilesRenameParams,
    FilesTreeParams,
    FilesWriteParams,
    Method,
    PingResult,
    ProtocolError,
    RequestMessage,
    SessionGetResult,
    SessionLogsParams,
    SessionStartParams,
    encode,
    parse_event,
    parse_message,
    parse_params,
    parse_result,
)
from oqto.protocol.sessions import RuntimeState, SessionEvent, SessionRuntime, SessionSpec

WS = {"owner": "alice", "workspace": "team/proj"}
RUNTIME = {
    "id": "abc123",
    "workspace": "team/proj",
    "workspace_path": "/home/alice/oqto/team/proj",
    "state": "running",
    "pids": {"agent": 10},
}

VALID_PARAMS: dict[str, dict[str, Any]] = {
    "ping": {},
    "subscribe": {},
    "session.start": {"spec": {"id": "abc123", "owner": "alice", "workspace": "team/proj"}},
    "session.stop": {"id": "abc123"},
    "session.get": {"id": "abc123"},
    "session.list": {},
    "session.logs": {"id": "abc123", "service": "terminal"},
    "session.connect": {"id": "abc123", "service": "files"},
    "files.tree": WS,
    "files.read": {**WS, "path": "src/main.py"},
    "files.write": {**WS, "path": "notes.md", "content_b64": "aGk="},
    "files.mkdir": {**WS, "path": "docs"},
    "files.delete": {**WS, "path": "docs"},
    "files.rename": {**WS, "old_path": "a.txt", "new_path": "b/a.txt"},
}

VALID_RESULTS: dict[str, dict[str, Any]] = {
    "ping": {"pong": True, "uid": 1001, "version": "0.1.0"},
    "subscribe": {},
    "session.start": {"session": RUNTIME},
    "session.stop": {},
    "session.get": {"session": None},
    "session.list": {"sessions": [RUNTIME, {**RUNTIME, "id": "def", "state": "failed"}]},
    "session.logs": {"text": "starting\n"},
    "session.connect": {"service": "files"},
    "files.tree": {"listing": {"entries": [{"name": "a", "type": "file"}]}},
    "files.read": {"content_b64": "aGk=", "size": 2, "truncated": False},
    "files.write": {"size": 2},
    "files.mkdir": {},
    "files.delete": {},
    "files.rename": {},
}


def test_every_method_has_params_and_result_models() -> None:
    assert set(PARAM_MODELS) == set(RESULT_MODELS) == set(Method) == set(VALID_PARAMS)
    assert set(VALID_RESULTS) == set(Method)


@pytest.mark.parametrize("method", list(Method))
def test_valid_params_parse_and_round_trip(method: Method) -> None:
    params = parse_params(method, VALID_PARAMS[method])
    assert isinstance(params, PARAM_MODELS[method])
    request = RequestMessage(id=1, method=method, params=params.model_dump(mode="json"))
    [frame] = decode_all(encode(request))
    assert isinstance(frame, dict)
    message = parse_message(frame)
    assert isinstance(message, RequestMessage)
    assert parse_params(message.method, message.params) == params


@pytest.mark.parametrize("method", list(Method))
def test_valid_results_parse(method: Method) -> None:
    result = parse_result(method, VALID_RESULTS[method])
    assert isinstance(result, RESULT_MODELS[method])
    assert parse_result(method, result.model_dump(mode="json")) == result


def test_defaults() -> None:
    logs = parse_params("session.logs", {"id": "a", "service": "agent"})
    tree = parse_params("files.tree", WS)
    read = parse_params("files.read", {**WS, "path": "x"})
    assert isinstance(logs, SessionLogsParams)
    assert logs.max_bytes == DEFAULT_LOG_BYTES
    assert isinstance(tree, FilesTreeParams)
    assert (tree.path, tree.depth) == ("", 1)
    assert isinstance(read, FilesReadParams)
    assert read.max_bytes == MAX_FILE_BYTES


def test_session_start_spec_is_a_session_spec() -> None:
    params = parse_params("session.start", VALID_PARAMS["session.start"])
    assert isinstance(params, SessionStartParams)
    assert isinstance(params.spec, SessionSpec)
    assert params.spec == CheckedSessionSpec(id="abc123", owner="alice", workspace="team/proj")


def test_session_start_from_a_plain_spec_is_checked_too() -> None:
    good = SessionStartParams(spec=SessionSpec(id="a1", owner="bob", workspace="p"))
    assert isinstance(good.spec, CheckedSessionSpec)
    with pytest.raises(ValueError, match=r"spec\.workspace"):
        SessionStartParams(spec=SessionSpec(id="a1", owner="bob", workspace="../etc"))


def test_workspace_names_come_out_normalised() -> None:
    params = parse_params("files.mkdir", {**WS, "workspace": " team//proj/ ", "path": "d"})
    assert isinstance(params, FilesPathParams)
    assert params.workspace == "team/proj"


def test_write_content_decodes() -> None:
    params = parse_params("files.write", {**WS, "path": "f", "content_b64": "AAEC/w=="})
    assert isinstance(params, FilesWriteParams)
    assert params.content() == b"\x00\x01\x02\xff"
    empty = parse_params("files.write", {**WS, "path": "f", "content_b64": ""})
    assert isinstance(empty, FilesWriteParams)
    assert empty.content() == b""


def test_paths_are_bounded_not_confined() -> None:
    # Confinement is the runner's job; the schema lets `..` through for it to refuse.
    params = parse_params("files.rename", {**WS, "old_path": "../x", "new_path": "a" * 4096})
    assert isinstance(params, FilesRenameParams)


def test_unknown_method() -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_params("session.destroy", {}, request_id=4)
    assert caught.value.code is ErrorCode.UNKNOWN_METHOD
    assert caught.value.request_id == 4
    with pytest.raises(ProtocolError) as caught:
        parse_result("Ping", {})
    assert caught.value.code is ErrorCode.UNKNOWN_METHOD


def _spec(**change: Any) -> dict[str, Any]:
    return {"spec": {"id": "abc", "owner": "alice", "workspace": "proj", **change}}


def _b64_of_size(size: int) -> str:
    return base64.b64encode(b"\0" * size).decode()


BAD_PARAMS: list[tuple[str, dict[str, Any], str]] = [
    ("ping", {"x": 1}, "x"),
    ("subscribe", {"events": ["all"]}, "events"),
    ("session.list", {"all": True}, "all"),
    ("session.start", {}, "spec"),
    ("session.start", {"spec": "abc"}, "spec"),
    ("session.start", _spec(extra=1), "spec.extra"),
    ("session.start", _spec(id=""), "spec.id"),
    ("session.start", _spec(id="ABC"), "spec.id"),
    ("session.start", _spec(id="a-b"), "spec.id"),
    ("session.start", _spec(id="a" * 65), "spec.id"),
    ("session.start", _spec(id="abc\n"), "spec.id"),
    ("session.start", _spec(id=5), "spec.id"),
    ("session.start", _spec(owner="Alice"), "spec.owner"),
    ("session.start", _spec(owner="1alice"), "spec.owner"),
    ("session.start", _spec(owner="a" * 33), "spec.owner"),
    ("session.start", _spec(owner="al/ice"), "spec.owner"),
    ("session.start", _spec(workspace="../x"), "spec.workspace"),
    ("session.start", _spec(workspace="/etc"), "spec.workspace"),
    ("session.start", _spec(workspace=""), "spec.workspace"),
    ("session.start", _spec(workspace="a/../b"), "spec.workspace"),
    ("session.start", _spec(workspace=".ssh"), "spec.workspace"),
    ("session.start", _spec(workspace="a/b/c/d/e"), "spec.workspace"),
    ("session.start", _spec(workspace="x" * 2000), "spec.workspace"),
    ("session.stop", {}, "id"),
    ("session.stop", {"id": "../abc"}, "id"),
    ("session.get", {"id": None}, "id"),
    ("session.logs", {"id": "abc", "service": "shell"}, "service"),
    ("session.logs", {"id": "abc", "service": "agent", "max_bytes": 0}, "max_bytes"),
    ("session.logs", {"id": "abc", "service": "agent", "max_bytes": (1 << 20) + 1}, "max_bytes"),
    ("session.logs", {"id": "abc", "service": "agent", "max_bytes": "10"}, "max_bytes"),
    ("files.tree", {"workspace": "proj"}, "owner"),
    ("files.tree", {**WS, "depth": 0}, "depth"),
    ("files.tree", {**WS, "depth": 21}, "depth"),
    ("files.tree", {**WS, "depth": 1.5}, "depth"),
    ("files.tree", {**WS, "workspace": "../x"}, "workspace"),
    ("files.tree", {**WS, "path": "a\0b"}, "path"),
    ("files.read", WS, "path"),
    ("files.read", {**WS, "path": "x" * 4097}, "path"),
    ("files.read", {**WS, "path": "x", "max_bytes": MAX_FILE_BYTES + 1}, "max_bytes"),
    ("files.read", {**WS, "path": "x", "max_bytes": -1}, "max_bytes"),
    ("files.write", {**WS, "path": "x"}, "content_b64"),
    ("files.write", {**WS, "path": "x", "content_b64": "aGk"}, "content_b64"),  # no padding
    ("files.write", {**WS, "path": "x", "content_b64": "aG k="}, "content_b64"),
    ("files.write", {**WS, "path": "x", "content_b64": "aGk=\n"}, "content_b64"),
    ("files.write", {**WS, "path": "x", "content_b64": "aGl="}, "content_b64"),  # stray bits
    ("files.write", {**WS, "path": "x", "content_b64": "aG-_"}, "content_b64"),  # urlsafe
    ("files.write", {**WS, "path": "x", "content_b64": "aGé="}, "content_b64"),
    (
        "files.write",
        {**WS, "path": "x", "content_b64": _b64_of_size(MAX_FILE_BYTES + 1)},
        "content_b64",
    ),
    ("files.mkdir", {**WS, "workspace": "a/./b", "path": "d"}, "workspace"),
    ("files.delete", {**WS, "owner": "", "path": "d"}, "owner"),
    ("files.rename", {**WS, "old_path": "a"}, "new_path"),
    ("files.rename", {**WS, "old_path": "a", "new_path": "b", "path": "c"}, "path"),
]


@pytest.mark.parametrize(("method", "params", "field"), BAD_PARAMS)
def test_bad_params_name_the_field(method: str, params: dict[str, Any], field: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_params(method, params, request_id=77)
    assert caught.value.code is ErrorCode.INVALID_PARAMS
    assert caught.value.request_id == 77
    assert caught.value.message.startswith(field + ":") or f"; {field}:" in caught.value.message
    assert len(caught.value.message) < 1200


def test_content_of_exactly_the_limit_is_accepted() -> None:
    params = {**WS, "path": "x", "content_b64": _b64_of_size(MAX_FILE_BYTES)}
    assert isinstance(parse_params("files.write", params), FilesWriteParams)


@pytest.mark.parametrize(
    ("method", "result"),
    [
        ("ping", {"pong": False, "uid": 1, "version": "v"}),
        ("ping", {"pong": True, "uid": "1", "version": "v"}),
        ("session.start", {"session": None}),
        ("session.start", {"session": {**RUNTIME, "state": "exploded"}}),
        ("session.get", {}),
        ("session.list", {"sessions": {}}),
        ("files.read", {"content_b64": "!!", "size": 1, "truncated": False}),
        ("files.read", {"content_b64": "", "size": 0, "truncated": 0}),
        ("files.write", {"size": -1}),
        ("subscribe", {"ok": True}),
    ],
)
def test_bad_results_are_protocol_violations(method: str, result: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_result(method, result, request_id=3)
    assert caught.value.code is ErrorCode.INVALID_MESSAGE
    assert caught.value.request_id == 3
    assert caught.value.message.startswith(f"result of {method}: ")


def test_result_models() -> None:
    ping = parse_result("ping", VALID_RESULTS["ping"])
    got = parse_result("session.get", {"session": RUNTIME})
    read = parse_result("files.read", VALID_RESULTS["files.read"])
    assert ping == PingResult(uid=1001, version="0.1.0")
    assert isinstance(got, SessionGetResult)
    assert got.session == SessionRuntime.model_validate(RUNTIME)
    assert isinstance(read, FilesReadResult)
    assert base64.b64decode(read.content_b64) == b"hi"
    assert parse_result("files.mkdir", {}) == Empty()


def test_session_state_event() -> None:
    event = SessionEvent(session_id="abc", state=RuntimeState.STOPPED)
    message = EventMessage(event=EVENT_SESSION_STATE, data=event.model_dump(mode="json"))
    assert parse_event(message) == event


@pytest.mark.parametrize(
    ("message", "fragment"),
    [
        (EventMessage(event="session.exploded", data={}), "unknown event"),
        (EventMessage(event=EVENT_SESSION_STATE, data={"session_id": "a"}), "state"),
    ],
)
def test_bad_events(message: EventMessage, fragment: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_event(message)
    assert caught.value.code is ErrorCode.INVALID_MESSAGE
    assert fragment in caught.value.message
