"""The session's real opencode, reached only through the control plane's proxy, answering
from the fake model."""

from __future__ import annotations

import json
import queue
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from tests.support.fake_llm import FakeLLM
from tests.support.server import OqtoServer


def model_ref(opencode_json: Path) -> dict[str, str]:
    provider, model = json.loads(opencode_json.read_text())["model"].split("/", 1)
    return {"providerID": provider, "modelID": model}


def agent(session: dict[str, Any], path: str) -> str:
    return f"/api/sessions/{session['id']}/agent{path}"


def texts(message: dict[str, Any]) -> str:
    return "".join(p.get("text", "") for p in message["parts"] if p.get("type") == "text")


def test_prompt_through_proxy_gets_fake_model_answer(
    admin: httpx.Client, running_session: dict[str, Any], opencode_json: Path, fake_llm: FakeLLM
) -> None:
    created = admin.post(agent(running_session, "/session"), json={})
    assert created.status_code == 200, created.text
    oc_session = created.json()["id"]
    prompt = f"hello through the proxy {time.time_ns()}"
    reply = admin.post(
        agent(running_session, f"/session/{oc_session}/message"),
        json={"parts": [{"type": "text", "text": prompt}], "model": model_ref(opencode_json)},
        timeout=120,
    )
    assert reply.status_code == 200, reply.text
    assert prompt in texts(reply.json())
    assert any(prompt in json.dumps(r.body) for r in fake_llm.requests)


def test_agent_credentials_never_reach_the_browser(
    server: OqtoServer, admin: httpx.Client, running_session: dict[str, Any]
) -> None:
    response = admin.get(agent(running_session, "/session"))
    assert response.status_code == 200
    assert "www-authenticate" not in response.headers
    assert "set-cookie" not in response.headers
    # Direct access to opencode without the per-session password is refused.
    log = server.log()
    assert "OPENCODE_SERVER_PASSWORD" not in log


def test_sse_event_stream_is_streamed_through_proxy(
    server: OqtoServer, admin: httpx.Client, running_session: dict[str, Any], opencode_json: Path
) -> None:
    oc_session = admin.post(agent(running_session, "/session"), json={}).json()["id"]
    marker = f"sse-marker-{time.time_ns()}"
    events: queue.Queue[dict[str, Any] | BaseException] = queue.Queue()

    def read_stream() -> None:
        """Read events until one carries the marker; the stream closes when we return."""
        try:
            with httpx.stream(
                "GET",
                f"{server.url}{agent(running_session, '/event')}",
                headers={"Authorization": admin.headers["Authorization"]},
                timeout=httpx.Timeout(10, read=120),
            ) as response:
                assert response.headers["content-type"].startswith("text/event-stream")
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    event = json.loads(line[5:])
                    events.put(event)
                    if marker in line and event["type"].startswith("message.part"):
                        return
        except BaseException as exc:  # handed to the test thread
            events.put(exc)

    reader = threading.Thread(target=read_stream, daemon=True)
    reader.start()
    first = events.get(timeout=60)
    assert not isinstance(first, BaseException), first
    # The first event arrives before any prompt exists: the proxy does not hold it back.
    assert first["type"] == "server.connected"
    reply = admin.post(
        agent(running_session, f"/session/{oc_session}/message"),
        json={"parts": [{"type": "text", "text": marker}], "model": model_ref(opencode_json)},
        timeout=120,
    )
    assert reply.status_code == 200, reply.text
    reader.join(timeout=120)
    assert not reader.is_alive(), "the marker never appeared in the event stream"
    seen = []
    while not events.empty():
        event = events.get()
        assert not isinstance(event, BaseException), event
        seen.append(event["type"])
    assert any(t.startswith("message.part") for t in seen), seen
