"""opencode's own clients through Oqto: `opencode run --attach URL` and the TUI of
`opencode attach URL`, pointed at a session's agent route with an Oqto API token as
their Basic password (all they can send), answer from the session's opencode."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
from tests.support.fake_llm import FakeLLM
from tests.support.server import OqtoServer, tool_env, wait_for


def api_token(admin: httpx.Client) -> str:
    created = admin.post("/api/account/tokens", json={"name": f"attach-{time.time_ns()}"})
    assert created.status_code == 201, created.text
    return str(created.json()["token"])


def client_env(tmp_path: Path) -> dict[str, str]:
    """A home of its own: opencode's client keeps state there."""
    home = tmp_path / "client-home"
    home.mkdir(exist_ok=True)
    return tool_env(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), TERM="xterm-256color")


def conversation_of(
    admin: httpx.Client, session: dict[str, Any], marker: str
) -> list[tuple[str, str]]:
    """(role, text) of each message of the opencode session whose prompt was `marker`."""
    agent = f"/api/sessions/{session['id']}/agent"
    for oc in admin.get(f"{agent}/session").json():
        messages = admin.get(f"{agent}/session/{oc['id']}/message").json()
        found = [
            (m["info"]["role"], "".join(p.get("text", "") for p in m["parts"])) for m in messages
        ]
        if any(marker in text for _, text in found):
            return found
    return []


def asked(fake_llm: FakeLLM, marker: str) -> bool:
    return any(marker in json.dumps(r.body) for r in fake_llm.requests)


def run_attached(
    tmp_path: Path, url: str, password: str, prompt: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["opencode", "run", "--attach", url, "--password", password, prompt],
        env=client_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_opencode_run_attach_through_oqto(
    server: OqtoServer,
    admin: httpx.Client,
    running_session: dict[str, Any],
    fake_llm: FakeLLM,
    tmp_path: Path,
) -> None:
    url = f"{server.url}/api/sessions/{running_session['id']}/agent"
    marker = f"attached-run-{time.time_ns()}"
    done = run_attached(tmp_path, url, api_token(admin), marker)
    assert done.returncode == 0, done.stdout + done.stderr
    assert asked(fake_llm, marker)
    # The turn is in the session's own opencode, with the model's answer (opencode run
    # prints nothing for the fake model's answer, attached or not).
    assert any(
        role == "assistant" and marker in text
        for role, text in conversation_of(admin, running_session, marker)
    )

    refused = run_attached(tmp_path, url, "oqto_wrong", "never sent")
    assert refused.returncode != 0 or "never sent" not in refused.stdout
    assert not asked(fake_llm, "never sent")


def test_opencode_attach_tui_through_oqto(
    server: OqtoServer,
    admin: httpx.Client,
    running_session: dict[str, Any],
    fake_llm: FakeLLM,
    tmp_path: Path,
) -> None:
    """The TUI in a real terminal (a tmux pane on a private tmux server: the TUI waits for
    a terminal's answers to its queries): it comes up on the session's workspace without
    an error, and a prompt typed into it reaches the session's model and its answer is
    shown."""
    url = f"{server.url}/api/sessions/{running_session['id']}/agent"
    env = client_env(tmp_path)
    socket = str(tmp_path / "tmux.sock")

    def tmux(*args: str) -> str:
        done = subprocess.run(
            ["tmux", "-S", socket, *args], env=env, capture_output=True, text=True, timeout=30
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def screen() -> str:
        return tmux("capture-pane", "-p", "-t", "tui")

    command = f"opencode attach {url} --password {api_token(admin)}"
    tmux("new-session", "-d", "-s", "tui", "-x", "120", "-y", "40", command)
    try:
        wait_for(lambda: "Ask anything" in screen(), 90, "the TUI's prompt box")
        shown = screen()
        assert str(server.workspaces) in shown, shown  # the session's own workspace
        assert "Error" not in shown and "Unauthorized" not in shown, shown
        marker = f"attached-tui-{time.time_ns()}"
        tmux("send-keys", "-t", "tui", "-l", marker)
        wait_for(lambda: marker in screen(), 30, "the prompt to be typed")
        tmux("send-keys", "-t", "tui", "Enter")
        wait_for(lambda: asked(fake_llm, marker), 120, "the model call")
        wait_for(
            lambda: any(
                role == "assistant" for role, _ in conversation_of(admin, running_session, marker)
            ),
            120,
            "the answer",
        )
    finally:
        subprocess.run(["tmux", "-S", socket, "kill-server"], env=env, capture_output=True)
