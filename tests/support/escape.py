"""Driving escape attempts through a real session: planting what a sandbox must hide,
running `escape_probe.py` through the terminal (ttyd's WebSocket) and through the
agent's bash tool (the fake model calls it), and what the host sees of the result."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from tests.support.fake_llm import DEFAULT_API_KEY, DEFAULT_MODEL_ID, FakeLLM, Reply
from tests.support.server import wait_for
from websockets.asyncio.client import connect

PROBE = Path(__file__).with_name("escape_probe.py")
PYTHON = "/usr/bin/python3"  # the host's: the probe needs nothing of the virtualenv
BANNER = b"HOST-LISTENER\n"

Results = dict[str, tuple[str, str]]  # check -> (verdict, detail)
Owner = tuple[int, int] | None  # uid, gid of what is planted (None: the test's own)
MODES = ("terminal", "tool")


def token() -> str:
    return f"oqto-escape-{uuid.uuid4().hex[:12]}"


class Listener:
    """A TCP server on every host address that answers each connection with a banner and
    remembers who connected: the ground truth of whether a sandbox reached it."""

    def __init__(self) -> None:
        self._sock = socket.create_server(("0.0.0.0", 0))
        self.port: int = self._sock.getsockname()[1]
        self.peers: list[str] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, peer = self._sock.accept()
            except OSError:  # closed
                return
            with conn:
                self.peers.append(peer[0])
                conn.sendall(BANNER)

    def close(self) -> None:
        self._sock.close()
        self._thread.join(timeout=5)


def host_ip() -> str | None:
    """A non-loopback address of this host (the one its default route leaves from)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("192.0.2.1", 9))  # no packet is sent for a UDP connect
        except OSError:
            return None
        address: str = sock.getsockname()[0]
    return None if address.startswith("127.") else address


@contextmanager
def sentinel() -> Iterator[str]:
    """A host process with a unique marker in its argv: seen from inside only without a
    PID namespace."""
    marker = token()
    proc = subprocess.Popen([PYTHON, "-c", "import time; time.sleep(3600)", marker])
    try:
        wait_for(lambda: pids_with(marker), 10, "the sentinel process")
        yield marker
    finally:
        proc.kill()
        proc.wait()


def pids_with(marker: str) -> list[int]:
    """Live (not zombie) processes whose command line contains `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def kill_marked(marker: str) -> list[int]:
    """Kill what a failed check left behind (so nothing outlives the test); return it."""
    pids = pids_with(marker)
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, 9)
    return pids


def give(path: Path, owner: Owner) -> None:
    if owner is not None:
        os.chown(path, *owner, follow_symlinks=False)


def plant(path: Path, text: str, owner: Owner, mode: int = 0o600) -> Path:
    """Write `path` (and its missing parents, 0700) as `owner` would have."""
    missing = [p for p in reversed(path.parents) if not p.exists()]
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    for directory in missing:
        give(directory, owner)
    path.write_text(text)
    path.chmod(mode)
    give(path, owner)
    return path


@dataclass(frozen=True)
class Planted:
    """What the owner had in their home before the session started."""

    secret: str  # in every secret file
    files: list[Path]


def plant_home(home: Path, owner: Owner) -> Planted:
    """Key-like files where every profile hides them, and the files a person runs
    outside the sandbox later (which no session may change)."""
    secret = token()
    key = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{secret}\n-----END OPENSSH PRIVATE KEY-----\n"
    files = [
        plant(home / ".ssh" / "id_ed25519", key, owner),
        plant(home / ".aws" / "credentials", f"[default]\naws_secret_access_key={secret}\n", owner),
        plant(home / ".netrc", f"machine example.com login me password {secret}\n", owner),
        plant(home / ".git-credentials", f"https://me:{secret}@example.com\n", owner),
    ]
    plant(home / ".bashrc", "# the owner's own\n", owner, 0o644)
    plant(home / ".local" / "bin" / ".keep", "", owner)
    return Planted(secret, files)


def plant_late(home: Path, secret: str, owner: Owner) -> list[Path]:
    """Secrets that appear while the session runs (the owner logs in to a cluster, a
    registry): hidden paths that did not exist when the sandbox was made."""
    return [
        plant(home / ".kube" / "config", f"token: {secret}\n", owner),
        plant(home / ".docker" / "config.json", f'{{"auths": {{"x": "{secret}"}}}}\n', owner),
    ]


@dataclass
class Snapshot:
    """Host-side contents of paths a sandbox must not change (None: absent)."""

    before: dict[Path, bytes | None] = field(default_factory=dict)

    @classmethod
    def of(cls, paths: list[Path]) -> Snapshot:
        return cls({p: _content(p) for p in paths})

    def changed(self) -> dict[str, tuple[bytes | None, bytes | None]]:
        return {str(p): (old, new) for p, old in self.before.items() if (new := _content(p)) != old}


def _content(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def install_probe(workspace: Path, targets: dict[str, Any], owner: Owner) -> str:
    """Put the probe and its targets in the workspace; the command that runs it (its
    mode, terminal or tool, follows)."""
    directory = workspace / ".escape"
    directory.mkdir(exist_ok=True)
    give(directory, owner)
    shutil.copyfile(PROBE, directory / "probe.py")
    (directory / "targets.json").write_text(json.dumps(targets))
    for name in ("probe.py", "targets.json"):
        give(directory / name, owner)
    return f"{PYTHON} {directory / 'probe.py'} {directory / 'targets.json'}"


# The terminal is a tmux pane: what reaches the browser is a repainted screen, with
# cursor moves between rows and control sequences (cursor visibility, erase, colours)
# inside them. A move to another row counts as a line break; the rest is dropped.
_CURSOR_TO = re.compile(r"\x1b\[\d*(?:;\d*)?[Hf]")
_CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC
    r"|\x1b[()][0-9A-Za-z]|\x1b[=>78MDEc]"
)


def plain(output: str) -> str:
    """Terminal output as the lines a person would read."""
    return _CONTROL.sub("", _CURSOR_TO.sub("\n", output)).replace("\r", "")


def parse(output: str, run: str) -> Results:
    """The probe's verdicts, up to its end marker."""
    results: Results = {}
    for line in plain(output).splitlines():
        if f"ESC-END {run}" in line:
            return results
        # An injected keystroke that the terminal echoed may precede a verdict.
        if (start := line.find("ESC ")) >= 0:
            _, check, *rest = line[start:].split(" ", 3)
            verdict, detail = [*rest, "", ""][:2]
            results[check] = (verdict, detail)
    raise AssertionError(f"the probe never finished:\n{output[-3000:]}")


def in_terminal(url: str, authorization: str, command: str, run: str) -> str:
    """Type `command` into the session's terminal; its output until the probe ends."""

    async def go() -> str:
        async with connect(
            url,
            subprotocols=["tty"],  # type: ignore[list-item]
            additional_headers={"Authorization": authorization},
        ) as ws:
            await ws.send(json.dumps({"AuthToken": "", "columns": 250, "rows": 50}).encode())
            await ws.send(f"0{command} terminal\r".encode())
            out = b""
            end = f"ESC-END {run}".encode()
            async with asyncio.timeout(180):
                while end not in out:
                    frame = await ws.recv()
                    if isinstance(frame, bytes) and frame[:1] == b"0":
                        out += frame[1:]
            return out.decode(errors="replace")

    return asyncio.run(go())


def model_ref(opencode_json: Path) -> dict[str, str]:
    provider, model = json.loads(opencode_json.read_text())["model"].split("/", 1)
    return {"providerID": provider, "modelID": model}


def as_tool(
    client: httpx.Client,
    session_id: str,
    fake_llm: FakeLLM,
    model: dict[str, str],
    command: str,
    run: str,
) -> str:
    """Have the fake model run `command` with the agent's bash tool; its output as the
    model is sent it (the agent answering at all means it reached the model)."""
    prompt = f"run the probe {run}"
    fake_llm.enqueue(
        Reply.tool("bash", {"command": f"{command} tool", "description": "escape probe"}),
        match=lambda body: prompt in json.dumps(body.get("messages")),
    )
    base = f"/api/sessions/{session_id}/agent"
    created = client.post(f"{base}/session", json={})
    assert created.status_code == 200, created.text
    reply = client.post(
        f"{base}/session/{created.json()['id']}/message",
        json={"parts": [{"type": "text", "text": prompt}], "model": model},
        timeout=300,
    )
    assert reply.status_code == 200, reply.text
    end = f"ESC-END {run}"
    for body in fake_llm.agent_requests():
        for message in body.get("messages", []):
            content = message.get("content")
            if message.get("role") == "tool" and isinstance(content, str) and end in content:
                return content
    raise AssertionError(f"the tool's output never reached the model: {reply.text[-2000:]}")


@dataclass
class Session:
    """One running session to escape from, and where its owner's things are."""

    base_url: str
    authorization: str
    session_id: str
    workspace: Path
    home: Path
    owner: Owner  # None: the test's own account
    runtime: Path  # the user plane's runtime root (every session's sockets)
    server_port: int
    admin_file: Path
    private_dirs: list[Path]  # Oqto's own state, hidden whatever the policy
    extra_write_targets: list[Path] = field(default_factory=list)
    other_home: Path | None = None  # another account's home, and a file it shares
    other_file: Path | None = None


@dataclass
class Observed:
    """What the probe found in each mode, and what the host saw before and after."""

    session: Session
    run: str
    results: dict[str, Results]
    secret: str
    changed: dict[str, tuple[bytes | None, bytes | None]]
    overlay_dir_kept: bool
    listener_peers: list[str]
    files_link: httpx.Response
    daemons_before_stop: dict[str, list[int]]
    daemons_after_stop: dict[str, list[int]]

    def verdicts(self, check: str) -> dict[str, str]:
        return {mode: self.results[mode].get(check, ("missing", ""))[0] for mode in MODES}

    def every(self, prefix: str) -> dict[str, tuple[str, str]]:
        """Every verdict of checks named `prefix...`, keyed `mode/check`."""
        return {
            f"{mode}/{check}": result
            for mode in MODES
            for check, result in self.results[mode].items()
            if check.startswith(prefix)
        }


def observe(
    client: httpx.Client,
    session: Session,
    planted: Planted,
    fake_llm: FakeLLM,
    opencode_json: Path,
) -> Observed:
    """Run the probe in the terminal and as the agent's tool, then stop the session and
    see what survived. Leaves nothing running."""
    home, workspace, owner = session.home, session.workspace, session.owner
    secret = planted.secret
    late = plant_late(home, secret, owner)
    run, daemon = token(), token()
    overlay = workspace / ".oqto" / "sandbox.toml"
    shared = [Path(d) / f"escape-{run}" for d in ("/tmp", "/var/tmp", "/dev/shm")]
    write_targets = [
        home / f"escape-{run}",
        home / ".bashrc",
        home / ".local" / "bin" / f"escape-{run}",
        home / ".config" / "oqto" / "sandbox.toml",
        session.admin_file,
        workspace.parent / f"escape-{run}",
        *shared,
        *session.extra_write_targets,
    ]
    snapshot = Snapshot.of([*write_targets, overlay])
    markers = [f"{daemon}-{mode}-{kind}" for mode in MODES for kind in "ab"]
    listener = Listener()
    try:
        with sentinel() as marker:
            targets = {
                "run": run,
                "daemon": daemon,
                "home": str(home),
                "workspace": str(workspace),
                "secret": secret,
                "secret_files": [str(p) for p in planted.files],
                "late_files": [str(p) for p in late],
                "other_home": str(session.other_home) if session.other_home else None,
                "other_file": str(session.other_file) if session.other_file else None,
                "private_dirs": [str(p) for p in session.private_dirs],
                "runtime": str(session.runtime),
                "write_targets": [str(p) for p in write_targets],
                "overlay": str(overlay),
                "sentinel": marker,
                "listener": listener.port,
                "host_ip": host_ip(),
                "server_port": session.server_port,
                "llm": fake_llm.base_url,
                "api_key": DEFAULT_API_KEY,
                "model": DEFAULT_MODEL_ID,
            }
            command = install_probe(workspace, targets, owner)
            sid = session.session_id
            ws_url = session.base_url.replace("http", "ws", 1) + f"/api/sessions/{sid}/terminal"
            results = {
                "terminal": parse(in_terminal(ws_url, session.authorization, command, run), run)
            }
            output = as_tool(client, sid, fake_llm, model_ref(opencode_json), command, run)
            results["tool"] = parse(output, run)
        files_link = client.get(
            f"/api/sessions/{sid}/files/file", params={"path": "link-ssh-terminal/id_ed25519"}
        )
        before = {m: started(m) for m in markers}
        stopped = client.post(f"/api/sessions/{sid}/stop")
        assert stopped.status_code == 200 and stopped.json()["status"] == "stopped"
        after = {m: pids_with(m) for m in markers}
        changed = snapshot.changed()
    finally:
        listener.close()
        for m in markers:
            kill_marked(m)
        for path in shared:  # what an escape left where the test will not clean up
            path.unlink(missing_ok=True)
    return Observed(
        session=session,
        run=run,
        results=results,
        secret=secret,
        changed=changed,
        overlay_dir_kept=overlay.parent.is_dir(),
        listener_peers=list(listener.peers),
        files_link=files_link,
        daemons_before_stop=before,
        daemons_after_stop=after,
    )


def started(marker: str) -> list[int]:
    """A daemon's pids once it runs (it was spawned in the background): one that never
    started would let the check after the stop pass for nothing."""
    pids: list[int] = wait_for(lambda: pids_with(marker), 15, f"the daemon {marker}")
    return pids


# -- what every sandbox promises (minimal included) ----------------------------------


def assert_probe_ran(o: Observed) -> None:
    for mode in MODES:
        assert "error" not in o.results[mode], (mode, o.results[mode]["error"])
        assert o.results[mode].get("daemons", ("",))[0] == "spawned", o.results[mode]


def assert_secrets_hidden(o: Observed) -> None:
    leaks = {k: v for k, v in o.every("secret:").items() if v[0] == "LEAK"}
    assert leaks == {}, leaks
    late = {k: v for k, v in o.every("late:").items() if v[0] == "LEAK"}
    assert late == {}, f"created after the session started, then read: {late}"
    for check in ("ssh_glob", "symlink", "proc_root", "other_home_read"):
        assert "LEAK" not in o.verdicts(check).values(), (check, o.every(check))
    for check in ("private:", "other_home_list"):
        shown = {k: v for k, v in o.every(check).items() if v[0] not in ("hidden", "skipped")}
        assert shown == {}, shown
    # The file server follows no link out of the workspace either.
    assert o.secret not in o.files_link.text
    assert o.files_link.status_code in (403, 404), o.files_link.text


def assert_writes_confined(o: Observed) -> None:
    assert o.changed == {}, "changed on the host: " + ", ".join(o.changed)
    assert o.overlay_dir_kept
    # The policy files are read-only inside too, not just unchanged afterwards.
    for check in ("overlay_write", "overlay_rename"):
        assert "WROTE" not in o.verdicts(check).values(), o.every(check)
    user_file = str(o.session.home / ".config" / "oqto" / "sandbox.toml")
    user = {k: v for k, v in o.every("write:").items() if v[1] == user_file}
    assert user and all(v[0] != "WROTE" for v in user.values()), user


def assert_no_injection_no_userns(o: Observed) -> None:
    assert o.verdicts("tiocsti_pty") == {"terminal": "refused", "tool": "refused"}
    on_tty = o.results["terminal"]["tiocsti_tty"][0]
    assert on_tty not in ("INJECTED", "notty"), on_tty
    for check in ("unshare_cmd", "unshare_call"):
        assert o.verdicts(check) == {"terminal": "refused", "tool": "refused"}, check


def assert_allowed_work(o: Observed) -> None:
    for check in ("edit", "build", "git"):
        assert o.verdicts(check) == {"terminal": "ok", "tool": "ok"}, o.every(check)


# -- what a PID namespace and the allow-list add ------------------------------------


def assert_processes_hidden(o: Observed) -> None:
    assert o.verdicts("host_procs") == {"terminal": "hidden", "tool": "hidden"}


def assert_network_allowlisted(o: Observed) -> None:
    for check in ("loopback", "control_plane", "host_ip", "llm_direct", "llm_curl_direct"):
        assert "OPEN" not in o.verdicts(check).values(), o.every(check)
    for check in ("loopback_proxy", "control_plane_proxy", "host_ip_proxy", "internet_proxy"):
        assert all(v.startswith("refused") for v in o.verdicts(check).values()), o.every(check)
    assert o.listener_peers == []
    # The allow-list lets the model through, and curl honours the proxy it was given.
    for check in ("llm_proxy", "llm_curl"):
        assert o.verdicts(check) == {"terminal": "OPEN", "tool": "OPEN"}, o.every(check)


def assert_own_sockets_only(o: Observed) -> None:
    """Each sandbox sees its own service's socket directory (and the egress proxy's),
    nothing of the session's other services or of any other session."""
    session_dir = o.session.runtime / o.session.session_id
    for mode, own in (("terminal", {"terminal", "egress"}), ("tool", {"agent", "egress"})):
        seen = [Path(p) for p in json.loads(o.results[mode]["sockets"][1])]
        strays = [p for p in seen if p.parent.parent != session_dir or p.parent.name not in own]
        assert strays == [], (mode, seen)


def assert_nothing_survives_a_stop(o: Observed) -> None:
    assert all(o.daemons_before_stop.values()), o.daemons_before_stop
    assert o.daemons_after_stop == {m: [] for m in o.daemons_after_stop}
