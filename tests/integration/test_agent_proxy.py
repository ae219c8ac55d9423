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


def raw_get(
    server: OqtoServer, token: str, path: str, headers: dict[str, str] | None = None
) -> tuple[int, list[tuple[str, str]]]:
    """A GET that sends exactly `headers` (http.client adds no Accept-Encoding here)."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        conn.putheader("Authorization", token)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        conn.endheaders()
        response = conn.getresponse()
        response.read()
        return response.status, [(k.lower(), v) for k, v in response.getheaders()]
    finally:
        conn.close()


def test_agent_headers_are_clean_and_its_html_ui_is_sandboxed(
    server: OqtoServer, admin: httpx.Client, running_session: dict[str, Any]
) -> None:
    token = admin.headers["Authorization"]
    # opencode's own web UI: script in it must not run on the platform's origin.
    status, headers = raw_get(server, token, agent(running_session, "/"))
    assert status == 200
    names = [k for k, _ in headers]
    assert names.count("date") == 1
    assert "content-encoding" not in names  # nothing asked for, nothing encoded
    assert dict(headers)["content-type"].startswith("text/html")
    assert ("x-frame-options", "DENY") in headers
    assert ("x-content-type-options", "nosniff") in headers
    policies = [v for k, v in headers if k == "content-security-policy"]
    assert any(p.split(";")[0].strip() == "sandbox" for p in policies)
    # The browser's Accept-Encoding is what opencode sees: gzip only when asked.
    status, headers = raw_get(
        server, token, agent(running_session, "/session"), {"Accept-Encoding": "gzip"}
    )
    assert status == 200 and ("content-encoding", "gzip") in headers
    assert "content-security-policy" not in dict(headers)  # JSON keeps its own headers


def test_get_with_a_body_is_a_400(admin: httpx.Client, running_session: dict[str, Any]) -> None:
    response = admin.request("GET", agent(running_session, "/session"), content=b"{}")
    assert response.status_code == 400
    assert response.json()["error"] == "body_not_allowed"
