"""Standalone smoke test: a real ``opencode serve`` talking to :class:`FakeLLM`.

Run::

    .venv/bin/python tests/support/opencode_smoke.py --opencode .tools/bin/opencode

It starts the fake LLM and opencode (own process group, dedicated HOME), sends one
prompt, prints the reply and timings, and kills the whole process group. The
helpers (:func:`start_opencode`, :func:`wait_ready`, :func:`stop_opencode`,
:class:`EventStream`) are importable so the test suite can reuse the recipe; see
``opencode_recipe.md`` for the measured behaviour behind each choice.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from oqto.userplane.proctree import descendants

if __package__ in (None, ""):
    # Executed as a script: make ``fake_llm`` importable from this directory.
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from fake_llm import (  # type: ignore[import-not-found]
        DEFAULT_MODEL_ID,
        DEFAULT_PROVIDER_ID,
        FakeLLM,
        Reply,
        opencode_config,
    )
else:
    from .fake_llm import DEFAULT_MODEL_ID, DEFAULT_PROVIDER_ID, FakeLLM, Reply, opencode_config

OPENCODE_USER = "opencode"
_LISTEN_RE = re.compile(r"listening on (http://[\w.\-\[\]:]+)")

# MODELS_FETCH is the one that matters: without it opencode resolves and fetches
# models.opencode.ai at start and hourly (seen with strace). The rest switch off
# features that could reach out or scan the machine; none is needed with FakeLLM.
QUIET_ENV = {
    "OPENCODE_DISABLE_MODELS_FETCH": "1",
    "OPENCODE_DISABLE_AUTOUPDATE": "1",
    "OPENCODE_DISABLE_SHARE": "1",
    "OPENCODE_DISABLE_LSP_DOWNLOAD": "1",
    "OPENCODE_DISABLE_CLAUDE_CODE": "1",
    "OPENCODE_DISABLE_EXTERNAL_SKILLS": "1",
}


def seed_opencode_home(home: Path) -> None:
    """Make opencode skip its background ``npm install @opencode-ai/plugin``.

    On every start opencode (1.18.33, ``Npm.install``) reifies
    ``~/.config/opencode`` unless ``node_modules/`` exists *and* every wanted
    dependency is already listed in ``package-lock.json``. The plugin package is
    only needed for user-written TypeScript plugins, which tests don't have, so
    an empty ``node_modules`` plus a lock that names it avoids ~30 MB of
    downloads and any registry traffic. (Seeds ``$HOME/.config``; if you set
    ``XDG_CONFIG_HOME`` for opencode, seed that directory's ``opencode/`` instead.)
    """
    cfg = home / ".config" / "opencode"
    (cfg / "node_modules").mkdir(parents=True, exist_ok=True)
    lock = cfg / "package-lock.json"
    if not lock.exists():
        deps = {"@opencode-ai/plugin": "*"}
        (cfg / "package.json").write_text(json.dumps({"dependencies": deps}) + "\n")
        lock.write_text(
            json.dumps({"lockfileVersion": 3, "packages": {"": {"dependencies": deps}}}) + "\n"
        )


@dataclass
class OpencodeProcess:
    proc: subprocess.Popen[bytes]
    base_url: str
    password: str
    home: Path
    workdir: Path
    log_path: Path
    started_at: float
    listening_at: float

    @property
    def auth(self) -> tuple[str, str]:
        return (OPENCODE_USER, self.password)

    def client(self, timeout: float = 30.0) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, auth=self.auth, timeout=timeout)

    def rss_mb(self) -> float:
        """Resident memory of opencode. ``node_modules/.bin/opencode`` links straight to
        the native binary (no node wrapper), so ``proc.pid`` is opencode itself."""
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0


def opencode_env(
    home: Path, password: str, config_path: Path, *, quiet: bool = True
) -> dict[str, str]:
    """A clean environment: inherited XDG_* or OPENCODE_* vars would silently redirect
    opencode's config/cache/data away from the dedicated HOME."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "TERM": "dumb",
        "OPENCODE_SERVER_PASSWORD": password,
        "OPENCODE_CONFIG": str(config_path),
    }
    if quiet:
        env.update(QUIET_ENV)
    return env


def start_opencode(
    opencode: str | Path,
    *,
    home: Path,
    workdir: Path,
    config: dict[str, Any],
    log_path: Path,
    quiet: bool = True,
    extra_env: dict[str, str] | None = None,
    listen_timeout: float = 60.0,
    log_level: str | None = None,
) -> OpencodeProcess:
    """Start ``opencode serve --port 0`` and return once it has printed its URL.

    Port 0 plus parsing the "listening on" line avoids the pick-a-free-port race.
    The process gets its own session/process group so :func:`stop_opencode` can
    take down anything it spawned (bash tool children, LSPs).
    """
    home.mkdir(parents=True, exist_ok=True)
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = log_path.parent / "opencode.json"
    config_path.write_text(json.dumps(config, indent=2))
    password = secrets.token_urlsafe(18)
    env = opencode_env(home, password, config_path, quiet=quiet)
    env.update(extra_env or {})
    # Resolved up front: the child runs in ``workdir``, where a relative path breaks.
    exe = shutil.which(str(opencode)) or str(opencode)
    cmd = [
        str(Path(exe).absolute()),
        "serve",
        "--port",
        "0",
        "--hostname",
        "127.0.0.1",
        "--print-logs",
    ]
    if log_level:
        cmd += ["--log-level", log_level]
    log = log_path.open("wb")
    t0 = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        cwd=workdir,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=log,
        start_new_session=True,
    )
    log.close()
    url = _read_listen_url(proc, log_path, listen_timeout)
    return OpencodeProcess(proc, url, password, home, workdir, log_path, t0, time.monotonic())


def _read_listen_url(proc: subprocess.Popen[bytes], log_path: Path, timeout: float) -> str:
    assert proc.stdout is not None
    found: list[str] = []
    done = threading.Event()

    def pump() -> None:
        # Keep draining stdout for the process lifetime so it never blocks on a full pipe.
        assert proc.stdout is not None
        with log_path.open("ab") as sink:
            for raw in proc.stdout:
                sink.write(b"[stdout] " + raw)
                sink.flush()
                m = _LISTEN_RE.search(raw.decode(errors="replace"))
                if m and not found:
                    found.append(m.group(1))
                    done.set()
        done.set()

    threading.Thread(target=pump, daemon=True).start()
    if not done.wait(timeout) or not found:
        stop_opencode(proc)
        raise RuntimeError(f"opencode did not report a listening URL; see {log_path}")
    return found[0]


def wait_ready(
    base_url: str, auth: tuple[str, str], *, timeout: float = 60.0, attempt_timeout: float = 0.5
) -> tuple[float, int]:
    """Poll ``GET /global/health`` until ``{"healthy": true}``.

    Short per-attempt timeouts matter: a request that lands while the server is
    still wiring up can hang indefinitely instead of failing.
    Returns (seconds waited, attempts).
    """
    t0 = time.monotonic()
    attempts = 0
    while True:
        attempts += 1
        try:
            r = httpx.get(f"{base_url}/global/health", auth=auth, timeout=attempt_timeout)
            if r.status_code == 200 and r.json().get("healthy") is True:
                return time.monotonic() - t0, attempts
        except (httpx.HTTPError, ValueError):
            pass
        if time.monotonic() - t0 > timeout:
            raise TimeoutError(f"opencode not healthy after {timeout}s ({attempts} attempts)")
        time.sleep(0.1)


def stop_opencode(proc: subprocess.Popen[bytes], *, grace: float = 5.0) -> float:
    """Stop opencode and everything it started; returns seconds taken.

    Killing the process group is not enough: opencode runs each bash-tool command
    in a new session (own pgid/sid), and on SIGTERM it leaves those running as
    orphans. So the descendants are collected first and killed by their own
    process groups afterwards.
    """
    t0 = time.monotonic()
    kids = sorted(descendants({proc.pid})) if proc.poll() is None else []
    groups: set[int] = set()
    for pid in [proc.pid, *kids]:
        with suppress(ProcessLookupError):
            groups.add(os.getpgid(pid))
    # Never signal our own group (if the caller did not use start_new_session).
    groups.discard(os.getpgrp())
    for pgid in groups:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
    for pgid in groups:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
    with suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)
    return time.monotonic() - t0


@dataclass
class EventStream:
    """Background reader for opencode's ``GET /event`` SSE stream."""

    base_url: str
    auth: tuple[str, str]
    path: str = "/event"
    events: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _connected: threading.Event = field(default_factory=threading.Event)

    def start(self, timeout: float = 10.0) -> EventStream:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self._connected.wait(timeout):
            raise TimeoutError("no server.connected event")
        return self

    def _run(self) -> None:
        # The stream ends with a protocol error when opencode is killed; that is expected.
        with suppress(httpx.HTTPError):
            self._read()

    def _read(self) -> None:
        with (
            httpx.Client(auth=self.auth, timeout=httpx.Timeout(5.0, read=None)) as c,
            c.stream("GET", self.base_url + self.path) as r,
        ):
            for line in r.iter_lines():
                if self._stop.is_set():
                    return
                if not line.startswith("data: "):
                    continue
                ev = json.loads(line[6:])
                with self._cond:
                    self.events.append((time.monotonic(), ev))
                    self._cond.notify_all()
                if _etype(ev) == "server.connected":
                    self._connected.set()

    def wait_for(self, pred: Any, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        seen = 0
        with self._cond:
            while True:
                for _, ev in self.events[seen:]:
                    if pred(ev):
                        return ev
                seen = len(self.events)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("event not seen")
                self._cond.wait(remaining)

    def stop(self) -> None:
        # The reader only notices on the next line; heartbeats arrive every 10 s,
        # and the thread is a daemon, so stopping opencode ends it for sure.
        self._stop.set()


def _etype(ev: dict[str, Any]) -> str:
    payload = ev.get("payload", ev)
    return str(payload.get("type", ""))


@contextmanager
def _scratch(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    d = Path(tempfile.mkdtemp(prefix="oc-smoke-"))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def _dir_mb(p: Path) -> float:
    total = 0
    for root, _dirs, files in os.walk(p):
        for f in files:
            with suppress(OSError):
                total += os.lstat(os.path.join(root, f)).st_size
    return total / 1e6


def run(args: argparse.Namespace) -> int:
    timings: dict[str, float] = {}
    model = {"providerID": DEFAULT_PROVIDER_ID, "modelID": DEFAULT_MODEL_ID}
    with _scratch(args.scratch) as scratch, FakeLLM() as llm:
        home = args.home or scratch / "home"
        if args.seed:
            seed_opencode_home(home)
        oc = start_opencode(
            args.opencode,
            home=home,
            workdir=scratch / "ws",
            config=opencode_config(llm.base_url),
            log_path=scratch / "opencode.log",
            quiet=not args.no_quiet,
            extra_env=dict(kv.split("=", 1) for kv in args.env),
            log_level=args.log_level,
        )
        try:
            timings["listening_s"] = oc.listening_at - oc.started_at
            ready_s, _attempts = wait_ready(oc.base_url, oc.auth)
            timings["ready_s"] = oc.listening_at - oc.started_at + ready_s
            events = EventStream(oc.base_url, oc.auth).start()
            with oc.client(timeout=120) as c:
                t = time.monotonic()
                sid = c.post("/session", json={}).raise_for_status().json()["id"]
                timings["create_session_s"] = time.monotonic() - t

                t = time.monotonic()
                r = c.post(
                    f"/session/{sid}/message",
                    json={"parts": [{"type": "text", "text": args.prompt}], "model": model},
                ).raise_for_status()
                timings["first_prompt_s"] = time.monotonic() - t
                reply = "".join(p.get("text", "") for p in r.json()["parts"] if p["type"] == "text")
                print(f"reply: {reply!r}")
                ok = reply == f"FAKE-REPLY: {args.prompt}"

                t = time.monotonic()
                c.post(
                    f"/session/{sid}/message",
                    json={"parts": [{"type": "text", "text": "again"}], "model": model},
                ).raise_for_status()
                timings["second_prompt_s"] = time.monotonic() - t

                if args.tool:
                    llm.enqueue(
                        Reply.tool(
                            "bash", {"command": "echo smoke > smoke.txt", "description": "x"}
                        )
                    )
                    c.post(
                        f"/session/{sid}/message",
                        json={"parts": [{"type": "text", "text": "use a tool"}], "model": model},
                    ).raise_for_status()
                    msgs = c.get(f"/session/{sid}/message").raise_for_status().json()
                    tools = [p for m in msgs for p in m["parts"] if p["type"] == "tool"]
                    state = tools[-1]["state"] if tools else {}
                    print(f"tool: {tools[-1]['tool'] if tools else None} -> {state.get('status')}")
                    ok = ok and state.get("status") == "completed"
                    ok = ok and (oc.workdir / "smoke.txt").read_text() == "smoke\n"

                if args.abort:
                    gate = threading.Event()
                    llm.enqueue(Reply.say("never finished", gate=gate))
                    n = len(llm.agent_requests())
                    c.post(
                        f"/session/{sid}/prompt_async",
                        json={"parts": [{"type": "text", "text": "abort me"}], "model": model},
                    ).raise_for_status()
                    llm.wait_for_requests(n + 1)
                    t = time.monotonic()
                    aborted = c.post(f"/session/{sid}/abort").raise_for_status().json()
                    events.wait_for(
                        lambda e: (
                            e.get("type") == "session.error"
                            and e["properties"].get("sessionID") == sid
                        )
                    )
                    timings["abort_to_error_event_s"] = time.monotonic() - t
                    rec = llm.requests[-1]
                    rec.finished.wait(5)
                    print(f"abort: {aborted} llm_disconnected={rec.disconnected}")
                    ok = ok and aborted is True and rec.disconnected
                    gate.set()

            if args.linger:
                # Lets opencode's detached background work (config-dir npm install) finish.
                time.sleep(args.linger)
            timings["rss_mb"] = oc.rss_mb()
            events.stop()
            deltas = sum(1 for _, e in events.events if e.get("type") == "message.part.delta")
            print(f"events: {len(events.events)} (text deltas: {deltas})")
        finally:
            timings["stop_s"] = stop_opencode(oc.proc)
        timings["home_mb"] = _dir_mb(home)
        print(f"llm requests: {[r.kind for r in llm.requests]}")
        print("timings: " + json.dumps({k: round(v, 2) for k, v in timings.items()}))
        if not ok:
            print(f"FAILED; opencode log: {oc.log_path}")
            if args.scratch is None:
                print((oc.log_path.read_text(errors="replace"))[-4000:])
        return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--opencode", required=True, help="path to the opencode binary")
    p.add_argument("--home", type=Path, help="HOME to use (reuse a warm one); default: fresh")
    p.add_argument("--scratch", type=Path, help="keep workdir/logs here instead of a temp dir")
    p.add_argument("--prompt", default="Hello from the Oqto smoke test")
    p.add_argument("--tool", action="store_true", help="also run a scripted bash tool call")
    p.add_argument("--abort", action="store_true", help="also abort a gated streaming reply")
    p.add_argument("--no-quiet", action="store_true", help="don't set the OPENCODE_DISABLE_* env")
    p.add_argument(
        "--env", action="append", default=[], metavar="K=V", help="extra env for opencode"
    )
    p.add_argument("--seed", action="store_true", help="seed HOME to skip the plugin install")
    p.add_argument("--linger", type=float, default=0, help="seconds to idle before stopping")
    p.add_argument("--log-level", choices=["DEBUG", "INFO", "WARN", "ERROR"])
    return run(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
