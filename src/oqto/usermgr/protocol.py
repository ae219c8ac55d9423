"""The usermgr wire protocol: one JSON request per connection, one JSON answer, each a
single line. Requests are validated strictly (unknown fields, wrong types and oversize
values are refused) before anything acts on them; the helper derives every account name
itself, so a request can never name an arbitrary Linux account.

    {"op": "ping"}
    {"op": "provision", "username": "alice"}
    {"op": "rollback", "username": "alice", "token": "<from provision>"}
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, TypeAdapter, ValidationError

from oqto.protocol.names import PLATFORM_NAME_MAX, PLATFORM_NAME_PATTERN

MAX_REQUEST_BYTES = 4096
TOKEN_CHARS = r"^[A-Za-z0-9_-]{32,64}$"

Username = Annotated[
    StrictStr, Field(min_length=1, max_length=PLATFORM_NAME_MAX, pattern=PLATFORM_NAME_PATTERN)
]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PingRequest(_Request):
    op: Literal["ping"]


class ProvisionRequest(_Request):
    op: Literal["provision"]
    username: Username


class RollbackRequest(_Request):
    op: Literal["rollback"]
    username: Username
    token: Annotated[StrictStr, Field(pattern=TOKEN_CHARS)]


Request = Annotated[PingRequest | ProvisionRequest | RollbackRequest, Field(discriminator="op")]
_REQUEST = TypeAdapter(Request)


class RequestError(ValueError):
    """A request we refuse to act on; the message is safe to send back."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse_request(line: bytes) -> PingRequest | ProvisionRequest | RollbackRequest:
    if len(line) > MAX_REQUEST_BYTES:
        raise RequestError("too_large", f"requests are limited to {MAX_REQUEST_BYTES} bytes")
    try:
        data = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise RequestError("invalid_json", "the request is not one JSON object") from None
    if not isinstance(data, dict):
        raise RequestError("invalid_json", "the request is not one JSON object")
    try:
        request = _REQUEST.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "request"
        raise RequestError("invalid_request", f"{where}: {first['msg']}") from None
    return request


class ProvisionResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    linux_user: str
    uid: int
    gid: int
    home: str
    created: bool
    # Only when this call created the account: lets the caller undo it (once, for a while)
    # if it then fails to register the user; None when there is nothing to undo.
    rollback_token: str | None


class PingResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str
    systemd: bool


class RollbackResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rolled_back: bool


def ok(result: BaseModel) -> bytes:
    return json.dumps({"ok": True, "result": result.model_dump(mode="json")}).encode() + b"\n"


def error(code: str, message: str) -> bytes:
    payload: dict[str, Any] = {"ok": False, "error": {"code": code, "message": message}}
    return json.dumps(payload).encode() + b"\n"
