"""A scriptable, OpenAI-compatible fake LLM server for tests.

The paid model is the only thing our tests are allowed to fake, so this server
speaks just enough of the OpenAI chat-completions protocol for a real
``opencode serve`` (via ``@ai-sdk/openai-compatible``) to drive whole agent turns
against it: streaming and non-streaming completions, tool calls, usage, and
``/v1/models``.

Typical use::

    with FakeLLM() as llm:
        cfg = opencode_config(llm.base_url)
        llm.enqueue(Reply.tool("bash", {"command": "echo hi", "description": "say hi"}))
        ...  # drive opencode
        assert llm.agent_requests()[0]["messages"][-1]["role"] == "user"

Unscripted agent requests get ``"FAKE-REPLY: <last user text>"``; opencode's
title-generation requests are recognised and answered with :attr:`FakeLLM.title`
without consuming the scripted queue, because they race with the agent request.
"""

from __future__ import annotations

import itertools
import json
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_MODEL_ID",
    "DEFAULT_PROVIDER_ID",
    "FakeLLM",
    "RecordedRequest",
    "Reply",
    "ToolCall",
    "is_title_request",
    "last_user_text",
    "opencode_config",
]

DEFAULT_PROVIDER_ID = "fakellm"
DEFAULT_MODEL_ID = "fake-model"
DEFAULT_API_KEY = "sk-oqto-fake"

# opencode's title agent system prompt starts with this sentence (checked on 1.18.33).
_TITLE_MARKER = "You are a title generator"

_ids = itertools.count(1)


def _next_id(prefix: str) -> str:
    return f"{prefix}-{next(_ids)}"


@dataclass
class ToolCall:
    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict)
    id: str | None = None

    def arguments_json(self) -> str:
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(self.arguments)


@dataclass
class Reply:
    """One scripted completion.

    ``gate``: after the first content chunk the stream blocks until the event is
    set (or the client disconnects), so a test can abort at a precise point.
    ``status``/``error``: answer with an OpenAI-style error body instead.
    """

    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    chunk_size: int = 8
    chunk_delay: float = 0.0
    first_delay: float = 0.0
    gate: threading.Event | None = None
    finish_reason: str | None = None
    status: int = 200
    error: str | None = None

    @classmethod
    def say(cls, text: str, **kw: Any) -> Reply:
        return cls(text=text, **kw)

    @classmethod
    def tool(
        cls, name: str, arguments: dict[str, Any] | str, *, text: str = "", **kw: Any
    ) -> Reply:
        return cls(text=text, tool_calls=[ToolCall(name, arguments)], **kw)

    @classmethod
    def slow(cls, text: str, *, chunk_delay: float = 0.5, chunk_size: int = 4) -> Reply:
        return cls(text=text, chunk_delay=chunk_delay, chunk_size=chunk_size)

    @classmethod
    def fail(cls, status: int = 400, message: str = "fake upstream failure") -> Reply:
        """An HTTP error. opencode retries retryable statuses (seen for 500; the AI SDK
        also counts 408/409/429) after ~2 s, and the retry consumes the next scripted
        reply; a 400 fails the turn at once with an ``APIError``."""
        return cls(status=status, error=message)

    def resolved_finish_reason(self) -> str:
        if self.finish_reason:
            return self.finish_reason
        return "tool_calls" if self.tool_calls else "stop"


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    kind: str  # "agent" | "title" | "models" | "other"
    received_at: float
    # Set when the client hung up before we finished streaming (e.g. opencode abort).
    disconnected: bool = False
    finished: threading.Event = field(default_factory=threading.Event, repr=False)


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"
        )
    return ""


def last_user_text(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    for msg in reversed(body.get("messages") or []):
        if isinstance(msg, dict) and msg.get("role") == "user":
            return _content_text(msg.get("content"))
    return ""


def is_title_request(body: Any) -> bool:
    if not isinstance(body, dict):
        return False
    for msg in body.get("messages") or []:
        if (
            isinstance(msg, dict)
            and msg.get("role") == "system"
            and _TITLE_MARKER in _content_text(msg.get("content"))
        ):
            return True
    return False


def _chunks(text: str, size: int) -> Iterator[str]:
    size = max(1, size)
    for i in range(0, len(text), size):
        yield text[i : i + size]


def _usage(body: dict[str, Any], reply: Reply) -> dict[str, int]:
    # Deterministic, roughly proportional numbers: enough for cost/token UIs.
    prompt = max(1, len(json.dumps(body.get("messages", []))) // 4)
    completion = max(
        1, (len(reply.text) + sum(len(t.arguments_json()) for t in reply.tool_calls)) // 4
    )
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


class _ClientGone(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # -- plumbing -----------------------------------------------------------------
    def _send_json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _write_chunk(self, data: bytes) -> None:
        try:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise _ClientGone from exc

    def _client_gone(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            peek: bytes = self.connection.recv(1, socket.MSG_PEEK)
            return peek == b""
        except OSError:
            return True

    def _wait(self, seconds: float, gate: threading.Event | None = None) -> None:
        """Sleep (or wait for ``gate``) but notice a hang-up within ~50 ms.

        Without this an aborted stream would only be detected on the next write,
        which may be many seconds away for a gated reply.
        """
        deadline = time.monotonic() + seconds
        while True:
            if self.server.fake.stopping.is_set():
                raise _ClientGone
            if self._client_gone():
                raise _ClientGone
            if gate is not None:
                if gate.wait(0.05):
                    return
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            time.sleep(min(0.05, remaining))

    def _read_body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return raw.decode(errors="replace")

    def _authorized(self) -> bool:
        key = self.server.fake.api_key
        return key is None or self.headers.get("Authorization") == f"Bearer {key}"

    # -- routes -------------------------------------------------------------------
    def do_GET(self) -> None:
        fake = self.server.fake
        path = self.path.split("?", 1)[0].rstrip("/")
        kind = "models" if path in ("/v1/models", "/models") else "other"
        rec = fake._record("GET", self.path, dict(self.headers), None, kind)
        try:
            if kind != "models":
                self._send_json(404, {"error": {"message": "not found", "type": "not_found"}})
            elif not self._authorized():
                self._send_json(401, _auth_error())
            else:
                self._send_json(
                    200,
                    {
                        "object": "list",
                        "data": [
                            {"id": m, "object": "model", "created": 0, "owned_by": "oqto-fake"}
                            for m in fake.models
                        ],
                    },
                )
        finally:
            rec.finished.set()

    def do_POST(self) -> None:
        fake = self.server.fake
        body = self._read_body()
        path = self.path.split("?", 1)[0].rstrip("/")
        is_chat = path in ("/v1/chat/completions", "/chat/completions")
        kind = "other"
        if is_chat:
            kind = "title" if is_title_request(body) else "agent"
        rec = fake._record("POST", self.path, dict(self.headers), body, kind)
        try:
            if not is_chat:
                self._send_json(404, {"error": {"message": "not found", "type": "not_found"}})
                return
            if not self._authorized():
                self._send_json(401, _auth_error())
                return
            if not isinstance(body, dict):
                self._send_json(400, {"error": {"message": "body must be JSON", "type": "bad"}})
                return
            reply = fake._reply_for(kind, body)
            if reply.error is not None:
                self._send_json(
                    reply.status,
                    {"error": {"message": reply.error, "type": "fake_error", "code": None}},
                )
                return
            if body.get("stream"):
                self._stream(body, reply)
            else:
                self._send_json(200, _completion(body, reply, fake.model_for(body)))
        except _ClientGone:
            rec.disconnected = True
            self.close_connection = True
        finally:
            rec.finished.set()

    def _stream(self, body: dict[str, Any], reply: Reply) -> None:
        model = self.server.fake.model_for(body)
        cid = _next_id("chatcmpl-fake")
        created = int(time.time())

        def event(delta: dict[str, Any], finish: str | None = None) -> bytes:
            chunk = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            return f"data: {json.dumps(chunk)}\n\n".encode()

        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()

        if reply.first_delay:
            self._wait(reply.first_delay)
        self._write_chunk(event({"role": "assistant", "content": ""}))
        gate = reply.gate
        for i, piece in enumerate(_chunks(reply.text, reply.chunk_size)):
            if i and reply.chunk_delay:
                self._wait(reply.chunk_delay)
            self._write_chunk(event({"content": piece}))
            if gate is not None:
                self._wait(0, gate)
                gate = None
        for idx, call in enumerate(reply.tool_calls):
            if reply.chunk_delay:
                self._wait(reply.chunk_delay)
            head = {
                "index": idx,
                "id": call.id or _next_id("call_fake"),
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            self._write_chunk(event({"tool_calls": [head]}))
            for piece in _chunks(call.arguments_json(), max(reply.chunk_size, 16)):
                self._write_chunk(
                    event({"tool_calls": [{"index": idx, "function": {"arguments": piece}}]})
                )
        if gate is not None:
            # A gated reply with no text still honours the gate before finishing.
            self._wait(0, gate)
        self._write_chunk(event({}, reply.resolved_finish_reason()))
        opts = body.get("stream_options") or {}
        if isinstance(opts, dict) and opts.get("include_usage"):
            usage_chunk = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [],
                "usage": _usage(body, reply),
            }
            self._write_chunk(f"data: {json.dumps(usage_chunk)}\n\n".encode())
        self._write_chunk(b"data: [DONE]\n\n")
        self._write_chunk(b"")  # zero-length chunk terminates the chunked body


def _auth_error() -> dict[str, Any]:
    return {"error": {"message": "invalid api key", "type": "invalid_request_error"}}


def _completion(body: dict[str, Any], reply: Reply, model: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": c.id or _next_id("call_fake"),
                "type": "function",
                "function": {"name": c.name, "arguments": c.arguments_json()},
            }
            for c in reply.tool_calls
        ]
    return {
        "id": _next_id("chatcmpl-fake"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": message, "finish_reason": reply.resolved_finish_reason()}
        ],
        "usage": _usage(body, reply),
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeLLM


@dataclass
class _Scripted:
    reply: Reply
    match: Callable[[dict[str, Any]], bool] | None


class FakeLLM:
    """Threaded fake OpenAI server. ``start()`` returns the ``.../v1`` base URL."""

    def __init__(
        self,
        *,
        api_key: str | None = DEFAULT_API_KEY,
        models: tuple[str, ...] = (DEFAULT_MODEL_ID,),
        title: str = "Fake session title",
        default_prefix: str = "FAKE-REPLY: ",
        default_chunk_size: int = 8,
    ) -> None:
        self.api_key = api_key
        self.models = models
        self.title = title
        self.default_prefix = default_prefix
        self.default_chunk_size = default_chunk_size
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._requests: list[RecordedRequest] = []
        self._queue: deque[_Scripted] = deque()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> str:
        if self._server is not None:
            return self.base_url
        self.stopping.clear()
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        # Wakes gated/slow streams so their handler threads exit promptly.
        self.stopping.set()
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeLLM:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeLLM is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # -- scripting -----------------------------------------------------------------
    def enqueue(
        self,
        *replies: Reply | str,
        match: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        """Queue replies for upcoming agent (non-title) requests, FIFO.

        A plain string is shorthand for ``Reply(text=...)``. With ``match``, the
        reply is used only by the first request whose body satisfies it.
        """
        with self._lock:
            for r in replies:
                reply = Reply(text=r) if isinstance(r, str) else r
                self._queue.append(_Scripted(reply, match))

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self._requests.clear()

    def model_for(self, body: dict[str, Any]) -> str:
        model = body.get("model")
        return model if isinstance(model, str) and model else self.models[0]

    def _reply_for(self, kind: str, body: dict[str, Any]) -> Reply:
        if kind == "title":
            return Reply(text=self.title, chunk_size=self.default_chunk_size)
        with self._lock:
            for item in self._queue:
                if item.match is None or item.match(body):
                    self._queue.remove(item)
                    return item.reply
        return Reply(
            text=f"{self.default_prefix}{last_user_text(body)}",
            chunk_size=self.default_chunk_size,
        )

    # -- inspection ----------------------------------------------------------------
    def _record(
        self, method: str, path: str, headers: dict[str, str], body: Any, kind: str
    ) -> RecordedRequest:
        rec = RecordedRequest(method, path, headers, body, kind, time.time())
        with self._cond:
            self._requests.append(rec)
            self._cond.notify_all()
        return rec

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def chat_requests(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Bodies of chat-completion requests, optionally only ``agent``/``title``."""
        return [
            r.body
            for r in self.requests
            if r.kind in ("agent", "title") and (kind is None or r.kind == kind)
        ]

    def agent_requests(self) -> list[dict[str, Any]]:
        return self.chat_requests("agent")

    def wait_for_requests(
        self, n: int, *, kind: str | None = "agent", timeout: float = 30.0
    ) -> list[RecordedRequest]:
        """Block until at least ``n`` matching requests have *arrived*."""

        def matching() -> list[RecordedRequest]:
            return [r for r in self._requests if kind is None or r.kind == kind]

        deadline = time.monotonic() + timeout
        with self._cond:
            while len(found := matching()) < n:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"expected {n} {kind or 'any'} requests, got {len(found)}")
                self._cond.wait(remaining)
            return found


def opencode_config(
    base_url: str,
    *,
    api_key: str = DEFAULT_API_KEY,
    provider_id: str = DEFAULT_PROVIDER_ID,
    model_id: str = DEFAULT_MODEL_ID,
) -> dict[str, Any]:
    """opencode config (for ``OPENCODE_CONFIG``) that routes every model call to the fake."""
    ref = f"{provider_id}/{model_id}"
    return {
        "$schema": "https://opencode.ai/config.json",
        "autoupdate": False,
        "share": "disabled",
        # Only our provider: otherwise opencode would also offer models.dev/env providers.
        "enabled_providers": [provider_id],
        "provider": {
            provider_id: {
                "npm": "@ai-sdk/openai-compatible",
                "name": "Oqto fake LLM",
                "options": {"baseURL": base_url, "apiKey": api_key},
                "models": {
                    model_id: {
                        "name": "Fake model",
                        "tool_call": True,
                        "limit": {"context": 128000, "output": 8192},
                    }
                },
            }
        },
        "model": ref,
        "small_model": ref,
    }
