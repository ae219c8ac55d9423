from typing import Any

import pytest
from tests.unit.protocol.frames import decode_all

from oqto.protocol.runner import (
    EVENT_SESSION_STATE,
    MAX_FRAME_BYTES,
    METHODS,
    CheckedSessionSpec,
    Empty,
    ErrorCode,
    EventMessage,
    Method,
    PingResult,
    ProtocolError,
    RequestMessage,
    ResponseMessage,
    SessionGetResult,
    SessionListResult,
    SessionStartParams,
    encode,
    parse_event,
    parse_message,
    parse_params,
)
from oqto.protocol.sessions import (
    AgentAuth,
    RuntimeState,
    SessionEvent,
    SessionRuntime,
    SessionSpec,
)
from oqto.userplane.process import LOG_TAIL_BYTES

RUNTIME = {
    "id": "abc123",
    "workspace": "team/proj",
    "workspace_path": "/home/alice/oqto/team/proj",
    "state": "running",
    "pids": {"agent": 10},
    "sandbox": {"enabled": True, "profile": "development", "network": "allowlist"},
}

VALID_PARAMS: dict[str, dict[str, Any]] = {
    "ping": {},
    "subscribe": {},
    "session.start": {"spec": {"id": "abc123", "owner": "alice", "workspace": "team/proj"}},
    "session.stop": {"id": "abc123"},
    "session.get": {"id": "abc123"},
    "session.list": {},
    "session.connect": {"id": "abc123", "service": "files"},
}

VALID_RESULTS: dict[str, dict[str, Any]] = {
    "ping": {"pong": True, "uid": 1001, "version": "0.1.0"},
    "subscribe": {},
    "session.start": {"session": RUNTIME},
    "session.stop": {},
    "session.get": {"session": None},
    "session.list": {"sessions": [RUNTIME, {**RUNTIME, "id": "def", "state": "failed"}]},
    "session.connect": {"service": "files"},
}


def test_every_method_is_listed_under_its_name() -> None:
    assert {name: m.name for name, m in METHODS.items()} == {name: name for name in METHODS}
    assert set(METHODS) == set(VALID_PARAMS) == set(VALID_RESULTS)


@pytest.mark.parametrize("method", list(METHODS))
def test_valid_params_parse_and_round_trip(method: str) -> None:
    params = parse_params(method, VALID_PARAMS[method])
    assert isinstance(params, METHODS[method].params)
    request = RequestMessage(id=1, method=method, params=params.model_dump(mode="json"))
    [frame] = decode_all(encode(request))
    assert isinstance(frame, dict)
    message = parse_message(frame)
    assert isinstance(message, RequestMessage)
    assert parse_params(message.method, message.params) == params


@pytest.mark.parametrize("method", list(METHODS))
def test_valid_results_parse(method: str) -> None:
    result = METHODS[method].parse_result(VALID_RESULTS[method])
    assert isinstance(result, METHODS[method].result)
    assert METHODS[method].parse_result(result.model_dump(mode="json")) == result


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
    params = Method.SESSION_START.parse_params(_spec(workspace=" team//proj/ "))
    assert params.spec.workspace == "team/proj"


@pytest.mark.parametrize("removed", ["session.logs", "files.tree", "files.read", "files.write"])
def test_unknown_method(removed: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_params(removed, {}, request_id=4)
    assert caught.value.code is ErrorCode.UNKNOWN_METHOD
    assert caught.value.request_id == 4


def _spec(**change: Any) -> dict[str, Any]:
    return {"spec": {"id": "abc", "owner": "alice", "workspace": "proj", **change}}


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
    ("session.connect", {"id": "abc", "service": "shell"}, "service"),
    ("session.connect", {"service": "files"}, "id"),
]


@pytest.mark.parametrize(("method", "params", "field"), BAD_PARAMS)
def test_bad_params_name_the_field(method: str, params: dict[str, Any], field: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_params(method, params, request_id=77)
    assert caught.value.code is ErrorCode.INVALID_PARAMS
    assert caught.value.request_id == 77
    assert caught.value.message.startswith(field + ":") or f"; {field}:" in caught.value.message
    assert len(caught.value.message) < 1200


@pytest.mark.parametrize(
    ("method", "result"),
    [
        ("ping", {"pong": False, "uid": 1, "version": "v"}),
        ("ping", {"pong": True, "uid": "1", "version": "v"}),
        ("session.start", {"session": None}),
        ("session.start", {"session": {**RUNTIME, "state": "exploded"}}),
        ("session.get", {}),
        ("session.list", {"sessions": {}}),
        ("session.connect", {"service": "shell"}),
        ("subscribe", {"ok": True}),
    ],
)
def test_bad_results_are_protocol_violations(method: str, result: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError) as caught:
        METHODS[method].parse_result(result, request_id=3)
    assert caught.value.code is ErrorCode.INVALID_MESSAGE
    assert caught.value.request_id == 3
    assert caught.value.message.startswith(f"result of {method}: ")


def test_result_models() -> None:
    ping = Method.PING.parse_result(VALID_RESULTS["ping"])
    got = Method.SESSION_GET.parse_result({"session": RUNTIME})
    assert ping == PingResult(uid=1001, version="0.1.0")
    assert isinstance(got, SessionGetResult)
    assert got.session == SessionRuntime.model_validate(RUNTIME)
    assert Method.SESSION_STOP.parse_result({}) == Empty()


def _runtimes(count: int, error: str | None) -> list[SessionRuntime]:
    return [
        SessionRuntime(
            id=f"{i:016x}",
            workspace=f"team-{i}/project with a long name {i}",
            workspace_path=f"/home/oqto_someone_long/oqto/workspaces/someone/team-{i}/" + "p" * 60,
            state=RuntimeState.RUNNING if error is None else RuntimeState.FAILED,
            error=error,
            agent_auth=AgentAuth(username="opencode", password="p" * 43),
            pids={"agent": 4_000_000 + i, "files": 4_100_000 + i, "terminal": 4_200_000 + i},
            ready_after={"agent": 5.123456789, "files": 2.98765432, "terminal": 0.4123456},
        )
        for i in range(count)
    ]


# The longest error the user plane writes: a header and a service's log tail, here one full
# of terminal colour codes (each escaped as six bytes on the wire).
LONGEST_ERROR = (
    "opencode (opencode) exited unexpectedly with status 1\n"
    "--- last lines of /home/someone/.local/state/oqto/logs/agent.log ---\n"
    + "log line, \x1b[31mcoloured\x1b[0m\n"
    * (LOG_TAIL_BYTES // 32)
)


@pytest.mark.parametrize(
    ("error", "at_most"),
    [(None, MAX_FRAME_BYTES // 20), (LONGEST_ERROR, MAX_FRAME_BYTES * 6 // 10)],
)
def test_a_hundred_sessions_fit_in_one_frame(error: str | None, at_most: int) -> None:
    result = SessionListResult(sessions=_runtimes(100, error))
    frame = encode(ResponseMessage(id=2**53, result=result.model_dump(mode="json")))
    assert len(frame) < at_most
    [decoded] = decode_all(frame)
    assert isinstance(decoded, dict)
    reply = parse_message(decoded)
    assert isinstance(reply, ResponseMessage)
    assert Method.SESSION_LIST.parse_result(reply.result) == result


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
