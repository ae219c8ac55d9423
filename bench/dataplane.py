"""The data plane's HTTP figures and a session's life cycle, for the benchmark suite
(`bench/run`, which runs `bench/suite.py`). Each figure is an async function of a `Rig`
(the servers and sessions, started when a figure first needs them) and `Settings`
(`--short` or full) and returns a JSON-able dict; the variants a figure compares run in
the same run, interleaved, and its ratios are the result.

- agent: `GET /global/health` of a session's opencode, loaded by wrk (`-t1`) at each
  concurrency, in slices whose order rotates: `direct` (opencode's loopback port, HTTP
  Basic; the session's admin sandbox file says `profile = "minimal"`, network host),
  `chp` (configurable-http-proxy in front of the same opencode; it passes the client's
  Basic header on), `oqto` (`/api/sessions/{id}/agent/global/health`, Bearer) and
  `oqto_relay` (the same through Oqto to a session under the built-in default profile,
  whose opencode is behind the sandbox init's Unix-socket relay).
- floor: the control plane's own routes under the same load: the framework's floor
  (`/api/health`), an API route's token check (`/api/auth/me`) and session row
  (`/api/sessions/{id}`), next to the proxied agent request.
- files: a 1,000-entry directory's tree and a 1 KB file read, oqto-files on its Unix socket
  vs through Oqto (`/api/sessions/{id}/files/...`), c=1, alternating slices of requests by
  one stdlib `http.client` keep-alive connection each (wrk cannot speak to a Unix socket).
- start: a new session under the default profile, `POST /api/sessions` until `running`,
  broken down per service (the server log's `ready_after`), then its first agent turn and
  its stop (`session_start.api_run`).
- concurrent_starts: `--concurrent` (10) sessions posted at once: until all are running,
  each one's start, the per-service breakdown, and stopping them all.
- runner_ping: root only; a throw-away account and its runner (`runner_bench`): `ping`
  through `RunnerClient` vs a bare Unix-socket echo of the same bytes, alternating.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import http.client
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chp
import httpx
import wrk
from common import SANDBOX_FILES, BenchEnv, Session, ratio, start_session, summarize
from runner_bench import PING_LINE, echo_round_trips, ping_round_trips, runner_account
from runner_bench import write_config as runner_config
from session_start import SERVICES, api_run, ready_after_from_log, wait_no_processes

# Every load generator connects from 127.0.0.1: wrk's 50 connections, and those of the
# previous run the server has not yet seen close, would meet the default cap of 128
# connections per client (429 too_many_connections) at the higher concurrencies.
FRONT_DOOR_CAP = 1000
TREE_DIR = "bench-tree"
TREE_ENTRIES = 1000
SMALL_FILE = "bench-1k.txt"
SMALL_BYTES = 1024


@dataclass(frozen=True)
class Settings:
    short: bool
    concurrency: tuple[int, ...]  # agent figure; c=1 and c=50 carry the targets
    floor_concurrency: tuple[int, ...]
    wrk_seconds: int  # per slice
    wrk_rounds: int  # slices per target and concurrency
    files_seconds: float  # per variant and case
    files_slice: int  # requests per slice
    start_runs: int
    start_warmup: int
    concurrent: int
    pings: int
    poll: float = 0.01

    @classmethod
    def for_mode(cls, short: bool, concurrent: int | None = None) -> Settings:
        if short:
            return cls(
                short=True,
                concurrency=(1, 50),
                floor_concurrency=(1, 50),
                wrk_seconds=1,
                wrk_rounds=1,
                files_seconds=0.5,
                files_slice=20,
                start_runs=1,
                start_warmup=0,
                concurrent=concurrent or 3,
                pings=200,
            )
        return cls(
            short=False,
            concurrency=(1, 5, 10, 25, 50),
            floor_concurrency=(1, 50),
            wrk_seconds=2,
            wrk_rounds=2,
            files_seconds=3.0,
            files_slice=50,
            start_runs=3,
            start_warmup=1,
            concurrent=concurrent or 10,
            pings=2000,
        )


# The sessions (by admin sandbox profile) each figure measures.
NEEDS = {
    "agent": ("minimal", "development"),
    "floor": ("minimal",),
    "files": ("minimal",),
    "start": ("development",),
    "concurrent_starts": ("development",),
}


class Rig:
    """What the figures measure, started on first use: a server whose sessions run under
    `profile = "minimal"` (opencode on a loopback port, which wrk and CHP need) with one
    session, and a server under the built-in default profile with one session (the relay
    variant, and where starts are timed)."""

    def __init__(self, bench: BenchEnv) -> None:
        self.bench = bench
        self._sessions: dict[str, asyncio.Task[Session]] = {}

    def _session(self, profile: str) -> Awaitable[Session]:
        if profile not in self._sessions:
            self._sessions[profile] = asyncio.ensure_future(self._start(profile))
        return self._sessions[profile]

    async def _start(self, profile: str) -> Session:
        server = await asyncio.to_thread(
            self.bench.server,
            f"server-{profile}",
            sandbox=SANDBOX_FILES[profile],
            env={"OQTO_SERVER__MAX_CONNECTIONS_PER_CLIENT": str(FRONT_DOOR_CAP)},
        )
        return await start_session(self.bench, profile, f"bench-{profile}", server=server)

    def prepare(self, names: Sequence[str]) -> None:
        """Start what the chosen figures need, concurrently, before the first one runs."""
        for name in names:
            for profile in NEEDS.get(name, ()):
                self._session(profile)

    async def host(self) -> Session:
        return await self._session("minimal")

    async def sandboxed(self) -> Session:
        return await self._session("development")

    async def close(self) -> None:
        """Stop the servers (and so their sessions), e.g. before another bench's server."""
        for task in self._sessions.values():
            if not task.done():
                task.cancel()
        for task in self._sessions.values():
            if task.done() and not task.cancelled() and task.exception() is None:
                server = task.result().server
                if server in self.bench.servers:
                    await asyncio.to_thread(self.bench.stop_server, server)
        self._sessions.clear()


Figure = Callable[[Rig, Settings], Awaitable[dict[str, Any]]]


def _basic(session: Session) -> str:
    pair = f"{session.agent.username}:{session.agent.password}".encode()
    return "Basic " + base64.b64encode(pair).decode()


def _bearer(session: Session) -> str:
    return f"Bearer {session.token}"


def _load_stats(loads: dict[int, dict[str, wrk.Load]]) -> dict[str, dict[str, Any]]:
    return {f"c{c}": {name: load.stats() for name, load in per.items()} for c, per in loads.items()}


def _added(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(a - b, 3)


# -- agent: small GETs -------------------------------------------------------------------


async def agent(rig: Rig, s: Settings) -> dict[str, Any]:
    host, relay = await rig.host(), await rig.sandboxed()
    if host.agent.port is None:
        raise RuntimeError(f"opencode of session {host.id} has no loopback port: {host.sandbox}")
    upstream = f"http://127.0.0.1:{host.agent.port}"
    env = rig.bench.helper_env()
    chp_version = chp.installed_version()
    with contextlib.ExitStack() as stack:
        targets = [
            wrk.Target("direct", f"{upstream}/global/health", _basic(host)),
            wrk.Target("oqto", f"{host.server.url}{host.base}/agent/global/health", _bearer(host)),
            wrk.Target(
                "oqto_relay", f"{relay.server.url}{relay.base}/agent/global/health", _bearer(relay)
            ),
        ]
        if chp_version is not None:
            chp_url = stack.enter_context(chp.running(upstream, rig.bench.root / "chp.log", env))
            targets.insert(1, wrk.Target("chp", f"{chp_url}/global/health", _basic(host)))
        loads = await wrk.interleaved(
            targets, s.concurrency, s.wrk_seconds, s.wrk_rounds, rig.bench.root, env
        )
    stats = _load_stats(loads)
    lo, hi = stats[f"c{min(s.concurrency)}"], stats[f"c{max(s.concurrency)}"]

    def rps(point: dict[str, Any], name: str) -> float | None:
        return point.get(name, {}).get("req_per_s")

    def p(point: dict[str, Any], name: str, q: str) -> float | None:
        return point.get(name, {}).get(f"{q}_ms")

    return {
        "path": "GET /global/health",
        "wrk": {"threads": 1, "seconds_per_slice": s.wrk_seconds, "slices": s.wrk_rounds},
        "front_door_cap_per_client": FRONT_DOOR_CAP,
        "chp_version": chp_version,  # None: not installed, no chp variant
        "stats": stats,
        "histograms": {
            c: {name: sorted(load.histogram.items()) for name, load in per.items()}
            for c, per in loads.items()
            if c in (min(s.concurrency), max(s.concurrency))
        },
        "ratios": {
            "c50_throughput_oqto_over_direct": ratio(rps(hi, "oqto"), rps(hi, "direct")),
            "c50_throughput_oqto_over_chp": ratio(rps(hi, "oqto"), rps(hi, "chp")),
            "c1_throughput_oqto_over_direct": ratio(rps(lo, "oqto"), rps(lo, "direct")),
            "c1_throughput_oqto_over_chp": ratio(rps(lo, "oqto"), rps(lo, "chp")),
            "c50_throughput_chp_over_direct": ratio(rps(hi, "chp"), rps(hi, "direct")),
            "c1_added_p50_ms_oqto_over_direct": _added(
                p(lo, "oqto", "p50"), p(lo, "direct", "p50")
            ),
            "c1_added_p50_ms_chp_over_direct": _added(p(lo, "chp", "p50"), p(lo, "direct", "p50")),
            "c50_p99_oqto_over_chp": ratio(p(hi, "oqto", "p99"), p(hi, "chp", "p99")),
            "c1_p50_oqto_relay_over_oqto": ratio(p(lo, "oqto_relay", "p50"), p(lo, "oqto", "p50")),
            "c50_throughput_oqto_relay_over_oqto": ratio(rps(hi, "oqto_relay"), rps(hi, "oqto")),
        },
    }


# -- floor: the control plane's own routes -------------------------------------------------


async def floor(rig: Rig, s: Settings) -> dict[str, Any]:
    host = await rig.host()
    url = host.server.url
    targets = [
        wrk.Target("health", f"{url}/api/health"),
        wrk.Target("auth_me", f"{url}/api/auth/me", _bearer(host)),
        wrk.Target("session_get", f"{url}{host.base}", _bearer(host)),
        wrk.Target("agent_proxied", f"{url}{host.base}/agent/global/health", _bearer(host)),
    ]
    loads = await wrk.interleaved(
        targets,
        s.floor_concurrency,
        s.wrk_seconds,
        max(1, s.wrk_rounds // 2),
        rig.bench.root,
        rig.bench.helper_env(),
    )
    stats = _load_stats(loads)
    c1 = stats[f"c{min(s.floor_concurrency)}"]
    p50 = {name: v["p50_ms"] for name, v in c1.items()}
    return {
        "stats": stats,
        # The proxied route need not take the API routes' path (its own token check, no
        # dependency injection), so it is compared with the framework floor, not stacked
        # on the session row.
        "layers_c1_p50_ms": {
            "framework, middleware, log (/api/health)": p50["health"],
            "API route: + token check (auth/me - health)": _added(p50["auth_me"], p50["health"]),
            "API route: + session row (session_get - auth/me)": _added(
                p50["session_get"], p50["auth_me"]
            ),
            "proxied agent request over the floor (agent_proxied - health)": _added(
                p50["agent_proxied"], p50["health"]
            ),
        },
    }


# -- files: tree and small read ------------------------------------------------------------


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: Path, timeout: float = 60) -> None:
        super().__init__("files", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(str(self.path))


def _get(conn: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def _populate(session: Session) -> None:
    """The 1,000-entry directory and the 1 KB file, written into the workspace on disk
    (1,000 uploads would take longer than the measurement)."""
    if not session.workspace_dir.is_dir():
        raise RuntimeError(f"workspace of session {session.id} not at {session.workspace_dir}")
    tree = session.workspace_dir / TREE_DIR
    tree.mkdir(exist_ok=True)
    for i in range(TREE_ENTRIES):
        (tree / f"entry-{i:04d}.txt").write_bytes(b"x")
    (session.workspace_dir / SMALL_FILE).write_bytes(b"y" * SMALL_BYTES)


@dataclass
class _Way:
    name: str
    conn: http.client.HTTPConnection
    path: str
    headers: dict[str, str]
    check: Callable[[bytes], bool]


def _alternate(ways: list[_Way], seconds: float, per_slice: int) -> dict[str, dict[str, Any]]:
    """Slices of `per_slice` requests per way, alternating, until each way has had about
    `seconds`; c=1 on one keep-alive connection per way."""
    samples: dict[str, list[float]] = {w.name: [] for w in ways}
    errors: dict[str, int] = {w.name: 0 for w in ways}
    busy: dict[str, float] = {w.name: 0.0 for w in ways}
    for way in ways:  # warm-up: connection, caches
        for _ in range(5):
            _get(way.conn, way.path, way.headers)
    turn = 0
    while min(busy.values()) < seconds:
        order = ways if turn % 2 == 0 else ways[::-1]
        turn += 1
        for way in order:
            began_slice = time.perf_counter()
            for _ in range(per_slice):
                began = time.perf_counter()
                status, body = _get(way.conn, way.path, way.headers)
                if status == 200 and way.check(body):
                    samples[way.name].append(time.perf_counter() - began)
                else:
                    errors[way.name] += 1
            busy[way.name] += time.perf_counter() - began_slice
    return {
        name: {
            **summarize(v),
            "errors": errors[name],
            "samples_ms": [round(x * 1000, 4) for x in v],
        }
        for name, v in samples.items()
    }


def _files_figure(session: Session, s: Settings) -> dict[str, Any]:
    _populate(session)
    direct = UnixHTTPConnection(session.files_socket)
    proxied = http.client.HTTPConnection("127.0.0.1", session.server.port, timeout=60)
    bearer = {"Authorization": _bearer(session)}
    base = f"{session.base}/files"

    def tree_ok(body: bytes) -> bool:
        return body.count(b"entry-") >= TREE_ENTRIES

    def read_ok(body: bytes) -> bool:
        return len(body) == SMALL_BYTES

    cases = {
        "tree_1000": (f"/tree?path={TREE_DIR}", tree_ok),
        "read_1k": (f"/file?path={SMALL_FILE}", read_ok),
    }
    out: dict[str, Any] = {"client": "http.client, c=1, one keep-alive connection per way"}
    try:
        for case, (path, check) in cases.items():
            out[case] = _alternate(
                [
                    _Way("direct", direct, path, {}, check),
                    _Way("oqto", proxied, base + path, bearer, check),
                ],
                s.files_seconds,
                s.files_slice,
            )
    finally:
        direct.close()
        proxied.close()
    p50 = {case: (out[case]["oqto"]["p50_ms"], out[case]["direct"]["p50_ms"]) for case in cases}
    out["ratios"] = {
        **{f"{case}_added_p50_ms": _added(*pair) for case, pair in p50.items()},
        **{f"{case}_p50_oqto_over_direct": ratio(*pair) for case, pair in p50.items()},
        "tree_1000_direct_p50_ms": p50["tree_1000"][1],
    }
    return out


async def files(rig: Rig, s: Settings) -> dict[str, Any]:
    return await asyncio.to_thread(_files_figure, await rig.host(), s)


# -- session starts ------------------------------------------------------------------------


async def start(rig: Rig, s: Settings) -> dict[str, Any]:
    session = await rig.sandboxed()
    runs: list[dict[str, Any]] = []
    async with httpx.AsyncClient(
        base_url=session.server.url, headers=session.auth, timeout=300
    ) as client:
        for i in range(s.start_warmup + s.start_runs):
            result = await api_run(
                rig.bench, session.server, client, f"bench-start-{i}", s.poll, "development"
            )
            if i >= s.start_warmup:
                runs.append(result)
    summary: dict[str, Any] = {
        key: summarize([r[f"{key}_s"] for r in runs])
        for key in ("start", "post", "first_turn", "ready_and_answered", "stop")
    }
    for service in SERVICES:
        summary[f"ready_after_{service}"] = summarize([r["ready_after"][service] for r in runs])
    beyond = [r["start_s"] - max(r["ready_after"].values()) for r in runs if r["ready_after"]]
    summary["beyond_slowest_service"] = summarize(beyond)
    slowest = [max(r["ready_after"].values()) for r in runs if r["ready_after"]]
    return {
        "profile": "development",
        "runs": len(runs),
        "warmup": s.start_warmup,
        "poll_s": s.poll,
        "summary": summary,
        "raw": runs,
        "ratios": {
            "start_over_slowest_service": ratio(
                summary["start"].get("p50_ms"), summarize(slowest).get("p50_ms")
            ),
            "ready_and_answered_over_start": ratio(
                summary["ready_and_answered"].get("p50_ms"), summary["start"].get("p50_ms")
            ),
        },
    }


async def concurrent_starts(rig: Rig, s: Settings) -> dict[str, Any]:
    session = await rig.sandboxed()
    server = session.server
    async with httpx.AsyncClient(base_url=server.url, headers=session.auth, timeout=300) as client:
        began = time.perf_counter()
        posted = await asyncio.gather(
            *(
                client.post("/api/sessions", json={"workspace": f"bench-many-{i}"})
                for i in range(s.concurrent)
            )
        )
        ids = []
        for response in posted:
            response.raise_for_status()
            ids.append(response.json()["id"])
        rig.bench.session_ids.update(ids)
        running_at: dict[str, float] = {}
        try:
            pending = list(ids)
            while pending:
                bodies = await asyncio.gather(*(client.get(f"/api/sessions/{i}") for i in pending))
                now = time.perf_counter() - began
                for sid, response in zip(pending, bodies, strict=True):
                    body = response.json()
                    if body["status"] == "running":
                        running_at[sid] = now
                    elif body["status"] == "failed":
                        raise RuntimeError(f"session {sid} failed: {body['error']}")
                pending = [sid for sid in pending if sid not in running_at]
                if pending and now > 600:
                    raise RuntimeError(f"{len(pending)} sessions not running after 600 s")
                await asyncio.sleep(0.05)
        finally:
            stop_began = time.perf_counter()
            await asyncio.gather(*(client.post(f"/api/sessions/{sid}/stop") for sid in ids))
            await asyncio.gather(*(wait_no_processes(sid, 60) for sid in ids))
            stop_all_s = time.perf_counter() - stop_began
            await asyncio.gather(*(client.delete(f"/api/sessions/{sid}") for sid in ids))
    ready = ready_after_from_log(server.log())
    return {
        "sessions": s.concurrent,
        "profile": "development",
        "all_running_s": round(max(running_at.values()), 3),
        "per_session_start": summarize(list(running_at.values())),
        "ready_after": {
            service: summarize([ready[sid][service] for sid in ids if sid in ready])
            for service in SERVICES
        },
        "stop_all_s": round(stop_all_s, 3),
        "poll_s": 0.05,
    }


# -- runner ping ---------------------------------------------------------------------------


async def runner_ping(rig: Rig, s: Settings) -> dict[str, Any]:
    if os.geteuid() != 0:
        return {"skipped": "needs root (creates a throw-away account and starts its runner)"}
    root = Path(tempfile.mkdtemp(prefix="oqto-runner-bench-"))
    root.chmod(0o755)  # the account's runner reads its config from here
    try:
        config = runner_config(root, rig.bench.llm.base_url, "runner", "")
        slices = 10
        pings: list[float] = []
        echoes: list[float] = []
        async with runner_account(root, config) as client:
            for i in range(slices):
                per = s.pings // slices
                if i % 2:
                    echoes += await echo_round_trips(per, PING_LINE, root)
                    pings += await ping_round_trips(client, per)
                else:
                    pings += await ping_round_trips(client, per)
                    echoes += await echo_round_trips(per, PING_LINE, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    ping, echo = summarize(pings), summarize(echoes)
    return {
        "ping_runner": ping,
        "echo_unix": echo,
        "ratios": {
            "ping_over_bare_echo_p50": ratio(ping["p50_ms"], echo["p50_ms"]),
            "added_p50_ms": _added(ping["p50_ms"], echo["p50_ms"]),
        },
    }


FIGURES: dict[str, Figure] = {
    "agent": agent,
    "floor": floor,
    "files": files,
    "start": start,
    "concurrent_starts": concurrent_starts,
    "runner_ping": runner_ping,
}
