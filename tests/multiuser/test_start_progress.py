"""A start's progress through a real runner: each service's steps, as the runner reports
them over the protocol, reach the control plane's event stream while the session starts."""

from __future__ import annotations

import json
from typing import Any

from tests.multiuser.platform import MultiUserPlatform, PlatformUser


def test_each_step_of_a_start_reaches_the_event_stream(
    platform: MultiUserPlatform, alice: PlatformUser
) -> None:
    seen: list[dict[str, Any]] = []
    with platform.client(alice) as client:
        with client.stream("GET", "/api/events", timeout=300) as stream:
            lines = stream.iter_lines()
            assert next(lines) == "event: resync"  # subscribed: nothing is missed from here
            created = client.post("/api/sessions", json={"workspace": "progress"})
            assert created.status_code == 201, created.text
            sid = created.json()["id"]
            event = None
            for line in lines:
                if line.startswith("event: "):
                    event = line.removeprefix("event: ")
                elif line.startswith("data: ") and event == "session":
                    body = json.loads(line.removeprefix("data: "))
                    if body["id"] != sid:
                        continue
                    seen.append(body)
                    assert body["status"] != "failed", body["error"]
                    if body["status"] == "running":
                        break
        assert client.delete(f"/api/sessions/{sid}").status_code == 204

    starting = [b["progress"] for b in seen if b["status"] == "starting" and b["progress"]]
    # Every service was announced started and then ready, in that order.
    for service in ("agent", "files", "terminal"):
        steps = [
            (p["phase"], p["ready_after"])
            for progress in starting
            for p in progress
            if p["service"] == service
        ]
        phases = [phase for phase, _ in steps]
        assert "started" in phases and "ready" in phases, (service, phases)
        assert phases.index("started") < phases.index("ready")
        ready_after = next(after for phase, after in steps if phase == "ready")
        assert ready_after is not None and 0 < ready_after < 300
    assert seen[-1]["progress"] is None and seen[-1]["ready_after"]
