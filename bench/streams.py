"""Streams through the control plane, each measured against the same service directly.

One real `oqto serve --single-user` (built-in sandbox profile unless `--sandbox`) with a
few running sessions; every figure runs its variants interleaved in ONE run, so the noise
of a small shared machine hits them alike: the ratios are the result, absolute values are
context. The HTTP client is our own (asyncio streams + httptools, on uvloop), so its cost
is small and the same on both paths.

- sse: opencode's event stream, `GET /api/sessions/{id}/agent/event` vs `GET /event` on
  opencode (the sandbox init's Unix-socket relay, or its loopback port with network host).
  First event: connect until `server.connected` arrives, alternating. Per event: a title
  change (`PATCH /session/{id}` on opencode directly, the one trigger for both) until its
  `session.updated` arrives, with both streams open at once, so each event is timed on
  both paths and the paired difference is what the control plane adds.
- transfers: 100 MB download (`/files/download?path=`) and 100 MB multipart upload
  (`POST /files/file?path=<dir>`, one file part as the web client's FormData sends it)
  through Oqto vs oqto-files' Unix socket; MB/s, and the control plane's RSS sampled every
  10 ms during each transfer (max - min: flat means the proxy streams).
- rss: the control plane's RSS right after start, idle with the sessions running, and with
  500 open SSE streams + 100 open terminals (permessage-deflate offered, as browsers do)
  spread over the sessions: today's proxy pools at most 100 upstream connections per
  session service, so at most `STREAMS_PER_SESSION` streams go to one session. All of them
  come from loopback, so the server's front door is set to `FRONT_DOOR_CAP` connections per
  client (default 128).
- terminal: keystroke echo and 10 MB of output, `WS /api/sessions/{id}/terminal` vs
  ttyd's `/ws` on its socket: `ws_bench.measure` (helper "ws"'s benchmark).

The figure functions (`FIGURES`) take a `StreamsContext` from `prepare()` and return
JSON-able dicts; `markdown()` renders them. `python bench/streams.py [--short]` runs them
alone (`--short`: a few seconds per figure, for CI).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import math
import os
import resource
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import chp
import httptools
import httpx
import uvloop
import ws_bench
from common import (
    SANDBOX_FILES,
    AgentEndpoint,
    BenchEnv,
    OqtoServer,
    Session,
    bench_env,
    fmt_ms,
    machine_info,
    md_table,
    percentile,
    publish,
    ratio,
    rss_kb,
    start_session,
    stop_process,
    summarize,
    wait_listening,
)
from tests.support.server import free_port
from websockets.asyncio.client import ClientConnection

MB = 1_000_000  # transfer sizes and rates; memory is in MiB, as ps and ws_bench count it
# "100 MB" in decimal units: the multipart body (file + boundaries) must stay under
# oqto-files' default upload limit of 100 MiB.
TRANSFER_BYTES = 100 * MB
SHORT_TRANSFER_BYTES = 10 * MB
BIG_FILE = "streams-big.bin"
UPLOAD_DIR = "streams-up"
# 500 SSE + 100 terminals from one loopback address, plus our other clients.
FRONT_DOOR_CAP = 1000
FRONT_DOOR_ENV = {"OQTO_SERVER__MAX_CONNECTIONS_PER_CLIENT": str(FRONT_DOOR_CAP)}
SSE_STREAMS, TERMINALS = 500, 100
# Well below the upstream pool's 256 connections per session service
# (oqto.httpclient.MAX_CONNECTIONS).
STREAMS_PER_SESSION = 90
READ_SIZE = 1 << 18
EVENT_TIMEOUT = 15.0


# -- the prepared context ------------------------------------------------------------------


@dataclass
class StreamsContext:
    """Running sessions of ONE control plane (the first one's services are the figures'
    direct baselines; the load figure spreads over all). A server of your own must be
    started with `FRONT_DOOR_ENV` for the load figure."""

    sessions: list[Session]
    short: bool = False
    rss_after_start: dict[str, Any] = field(default_factory=dict)
    bench: BenchEnv | None = None  # for the peer the transfers compare with

    @property
    def server(self) -> OqtoServer:
        return self.sessions[0].server

    @property
    def pid(self) -> int:
        assert self.server.proc is not None
        return self.server.proc.pid


def raise_fd_limit(wanted: int = 8192) -> None:
    """Our client holds 600+ sockets, the server (which inherits this limit) twice that."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def sessions_needed(short: bool) -> int:
    return 1 if short else math.ceil(SSE_STREAMS / STREAMS_PER_SESSION)


async def prepare(
    bench: BenchEnv, *, short: bool = False, sandbox: str = "development"
) -> StreamsContext:
    """A server whose front door admits the load figure's connections, with its running
    sessions (one in short mode); the control plane's RSS is taken before any session."""
    raise_fd_limit()
    server = await asyncio.to_thread(
        bench.server, "streams", sandbox=SANDBOX_FILES[sandbox], env=FRONT_DOOR_ENV
    )
    assert server.proc is not None
    after_start = await asyncio.to_thread(rss_steady, server.proc.pid, 0.5 if short else 1.0)
    token = await asyncio.to_thread(server.login)
    sessions = await asyncio.gather(
        *(
            start_session(bench, sandbox, f"streams-{i}", server=server, token=token)
            for i in range(sessions_needed(short))
        )
    )
    return StreamsContext(list(sessions), short, after_start, bench)


# -- a small HTTP/1.1 client ---------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One way to a service: Oqto's port (Bearer token, the session's path prefix), or the
    service's own Unix socket or loopback port."""

    name: str
    prefix: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    port: int | None = None
    unix: Path | None = None

    @classmethod
    def agent(cls, agent: AgentEndpoint) -> Target:
        basic = base64.b64encode(f"{agent.username}:{agent.password}".encode()).decode()
        return cls(
            "direct",
            headers=(("Authorization", f"Basic {basic}"),),
            port=agent.port,
            unix=agent.socket,
        )

    @classmethod
    def files(cls, session: Session) -> Target:
        return cls("direct", unix=session.files_socket)

    @classmethod
    def oqto(cls, session: Session, service: str) -> Target:
        return cls(
            "oqto",
            prefix=f"{session.base}/{service}",
            headers=tuple(session.auth.items()),
            port=session.server.port,
        )

    async def connect(self) -> Connection:
        if self.unix is not None:
            reader, writer = await asyncio.open_unix_connection(self.unix)
        else:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        return Connection(self, reader, writer)


class Connection:
    """One request and its response on a connection of its own."""

    def __init__(
        self, target: Target, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.target = target
        self.reader = reader
        self.writer = writer
        self.status = 0
        self.chunks: list[bytes] = []
        self.headers_done = False
        self.complete = False
        self._parser = httptools.HttpResponseParser(self)

    # httptools callbacks
    def on_headers_complete(self) -> None:
        self.headers_done = True
        self.status = self._parser.get_status_code()

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        self.complete = True

    def send_head(self, method: str, path: str, headers: tuple[tuple[str, str], ...] = ()) -> None:
        lines = [f"{method} {self.target.prefix}{path} HTTP/1.1", "Host: localhost"]
        lines += [f"{k}: {v}" for k, v in (*self.target.headers, *headers)]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())

    async def read(self) -> None:
        data = await self.reader.read(READ_SIZE)
        if not data:
            raise ConnectionError(f"{self.target.name}: connection closed mid-response")
        self._parser.feed_data(data)

    async def head(self) -> int:
        while not self.headers_done:
            await self.read()
        return self.status

    def take(self) -> list[bytes]:
        chunks, self.chunks = self.chunks, []
        return chunks

    async def body(self) -> bytes:
        while not self.complete:
            await self.read()
        return b"".join(self.take())

    def close(self) -> None:
        self.writer.close()


# -- RSS -----------------------------------------------------------------------------------


def rss_steady(pid: int, seconds: float) -> dict[str, Any]:
    """The median of samples over `seconds` (a settling process jitters by pages)."""
    samples = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        samples.append(rss_kb(pid))
        time.sleep(0.05)
    return {"rss_mib": round(percentile(samples, 50) / 1024, 1), "n": len(samples)}


class RssSampler:
    """Samples a process's RSS (KiB) in a thread every `interval` s, so a busy event loop
    in this process does not skip samples."""

    def __init__(self, pid: int, interval: float = 0.01) -> None:
        self.pid = pid
        self.interval = interval
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while True:
            self.samples.append(rss_kb(self.pid))
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(rss_kb(self.pid))

    def summary(self) -> dict[str, float]:
        return {
            "min_mib": round(min(self.samples) / 1024, 1),
            "max_mib": round(max(self.samples) / 1024, 1),
            "growth_mib": round((max(self.samples) - min(self.samples)) / 1024, 1),
            "samples": len(self.samples),
        }


# -- SSE -----------------------------------------------------------------------------------


class EventStream:
    """An open `GET .../event`: frames are read in a task and matched against waiters."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._buffer = b""
        self._waiters: dict[bytes, asyncio.Future[float]] = {}
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, target: Target) -> tuple[EventStream, float]:
        """Connect; returns the stream and the seconds until `server.connected` arrived."""
        began = time.perf_counter()
        conn = await target.connect()
        stream = cls(conn)
        try:
            connected = stream.expect(b'"server.connected"')
            conn.send_head("GET", "/event", (("Accept", "text/event-stream"),))
            status = await conn.head()
            if status != 200:
                raise RuntimeError(f"{target.name} /event: HTTP {status}")
            stream._task = asyncio.create_task(stream._read())
            arrived = await asyncio.wait_for(connected, EVENT_TIMEOUT)
        except BaseException:
            await stream.close()
            raise
        return stream, arrived - began

    def expect(self, needle: bytes) -> asyncio.Future[float]:
        """A future for the arrival time (perf_counter) of the next frame with `needle`."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiters[needle] = future
        return future

    async def _read(self) -> None:
        while True:
            self._frames(self.conn.take())
            await self.conn.read()

    def _frames(self, chunks: list[bytes]) -> None:
        if not chunks:
            return
        now = time.perf_counter()
        self._buffer += b"".join(chunks)
        *frames, self._buffer = self._buffer.split(b"\n\n")
        for frame in frames:
            if not frame.startswith(b"data:"):
                continue  # the proxy's `: keepalive` comments
            for needle in [n for n in self._waiters if n in frame]:
                future = self._waiters.pop(needle)
                if not future.done():
                    future.set_result(now)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await self._task
        self.conn.close()


class Trigger:
    """Title changes of an opencode session of its own, sent to opencode directly on one
    keep-alive connection: the same cost for whichever stream is watching."""

    def __init__(self, session: Session) -> None:
        self.client = session.agent.client(httpx.Limits(max_connections=4))
        self.opencode_session = ""

    async def __aenter__(self) -> Trigger:
        response = await self.client.post("/session", json={})
        response.raise_for_status()
        self.opencode_session = response.json()["id"]
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()

    async def fire(self, marker: str) -> None:
        response = await self.client.patch(
            f"/session/{self.opencode_session}", json={"title": marker}
        )
        response.raise_for_status()


async def _event_latency(streams: list[EventStream], trigger: Trigger) -> list[float]:
    """Seconds from the trigger until its event arrived, on each stream."""
    marker = f"streams-{uuid.uuid4().hex[:12]}"
    arrived = [stream.expect(marker.encode()) for stream in streams]
    began = time.perf_counter()
    fired = asyncio.create_task(trigger.fire(marker))
    try:
        async with asyncio.timeout(EVENT_TIMEOUT):
            at = await asyncio.gather(*arrived)
    finally:
        await fired
    return [t - began for t in at]


async def sse(ctx: StreamsContext) -> dict[str, Any]:
    """First event: connects through Oqto and directly, alternating. Per event: both
    streams open at once (opened in alternating order, since opencode writes to its
    subscribers in turn) and each event timed on both, so every pair shares its moment's
    load; the paired difference is what the control plane adds. opencode's title change
    takes 20-150 ms depending on the machine's load, so both parts run for a time budget
    (with a floor of samples) rather than a count."""
    session = ctx.sessions[0]
    targets = [Target.oqto(session, "agent"), Target.agent(session.agent)]
    connect_budget, event_budget = (1.0, 2.0) if ctx.short else (8.0, 25.0)
    per_round = 10 if ctx.short else 25
    first: dict[str, list[float]] = {t.name: [] for t in targets}
    per_event: dict[str, list[float]] = {t.name: [] for t in targets}
    added: list[float] = []
    async with Trigger(session) as trigger:
        for target in targets:  # warm-up: connections, the proxy's pools
            stream, _ = await EventStream.open(target)
            await _event_latency([stream], trigger)
            await stream.close()
        deadline = time.perf_counter() + connect_budget
        i = 0
        while i < 10 or time.perf_counter() < deadline:
            for target in targets if i % 2 == 0 else targets[::-1]:
                stream, seconds = await EventStream.open(target)
                first[target.name].append(seconds)
                await stream.close()
            i += 1
        deadline = time.perf_counter() + event_budget
        i = 0
        while i < 2 or time.perf_counter() < deadline:
            order = targets if i % 2 == 0 else targets[::-1]
            streams: list[EventStream] = []
            try:
                for target in order:
                    streams.append((await EventStream.open(target))[0])
                for _ in range(per_round):
                    latency = dict(
                        zip(
                            (t.name for t in order),
                            await _event_latency(streams, trigger),
                            strict=True,
                        )
                    )
                    for name, seconds in latency.items():
                        per_event[name].append(seconds)
                    added.append(latency["oqto"] - latency["direct"])
            finally:
                for stream in streams:
                    await stream.close()
            i += 1
    out: dict[str, Any] = {
        "direct_path": session.agent.path,
        "first_event": {name: summarize(v) for name, v in first.items()},
        "per_event": {name: summarize(v) for name, v in per_event.items()},
        # Not a latency: a paired difference, which can be negative.
        "per_event_added": {
            "p50_ms": round(percentile(added, 50) * 1000, 3),
            "p99_ms": round(percentile(added, 99) * 1000, 3),
        },
    }
    for kind in ("first_event", "per_event"):
        out[f"{kind}_ratio"] = _latency_ratio(out[kind]["oqto"], out[kind]["direct"])
    return out


def _latency_ratio(oqto: dict[str, Any], direct: dict[str, Any]) -> dict[str, Any]:
    return {
        "p50": ratio(oqto["p50_ms"], direct["p50_ms"]),
        "p99": ratio(oqto["p99_ms"], direct["p99_ms"]),
        "added_p50_ms": round(oqto["p50_ms"] - direct["p50_ms"], 3),
        "added_p99_ms": round(oqto["p99_ms"] - direct["p99_ms"], 3),
    }


# -- large transfers -----------------------------------------------------------------------


async def _download(target: Target, size: int) -> float:
    began = time.perf_counter()
    conn = await target.connect()
    try:
        conn.send_head("GET", f"/download?path={BIG_FILE}", (("Connection", "close"),))
        if await conn.head() != 200:
            raise RuntimeError(f"{target.name} download: HTTP {conn.status}")
        received = 0
        while not conn.complete:
            await conn.read()
            received += sum(len(c) for c in conn.take())
        received += sum(len(c) for c in conn.take())
    finally:
        conn.close()
    if received != size:
        raise RuntimeError(f"{target.name} download: {received} bytes, expected {size}")
    return time.perf_counter() - began


CHUNK = bytes(range(256)) * 4096  # 1 MiB


def _chunks(size: int) -> Iterator[bytes]:
    whole, rest = divmod(size, len(CHUNK))
    for _ in range(whole):
        yield CHUNK
    if rest:
        yield CHUNK[:rest]


async def _upload(target: Target, size: int) -> float:
    """One file in a multipart/form-data body, as the browser's FormData sends it."""
    boundary = f"----streams{uuid.uuid4().hex}"
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{BIG_FILE}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    began = time.perf_counter()
    conn = await target.connect()
    try:
        conn.send_head(
            "POST",
            f"/file?path={UPLOAD_DIR}&mkdir=true&overwrite=true",
            (
                ("Content-Type", f"multipart/form-data; boundary={boundary}"),
                ("Content-Length", str(len(head) + size + len(tail))),
                ("Connection", "close"),
            ),
        )
        conn.writer.write(head)
        for chunk in _chunks(size):
            conn.writer.write(chunk)
            await conn.writer.drain()
        conn.writer.write(tail)
        body = await conn.body()
    finally:
        conn.close()
    if conn.status != 201:
        raise RuntimeError(f"{target.name} upload: HTTP {conn.status} {body[:300]!r}")
    return time.perf_counter() - began


async def _put_file(target: Target, path: str, size: int) -> None:
    conn = await target.connect()
    try:
        conn.send_head("PUT", f"/file?path={path}", (("Content-Length", str(size)),))
        for chunk in _chunks(size):
            conn.writer.write(chunk)
            await conn.writer.drain()
        body = await conn.body()
    finally:
        conn.close()
    if conn.status not in (200, 201):
        raise RuntimeError(f"PUT {path}: HTTP {conn.status} {body[:300]!r}")


@contextlib.contextmanager
def _peer_ways(ctx: StreamsContext) -> Iterator[list[Target]]:
    """CHP in front of a second oqto-files over the same workspace on a loopback port
    (CHP cannot reach a Unix socket), and that oqto-files directly: the peer's own ratio.
    None without CHP installed."""
    if ctx.bench is None or chp.installed_version() is None:
        yield []
        return
    port = free_port()
    session = ctx.sessions[0]
    env = ctx.bench.helper_env()
    log = ctx.bench.root / "transfers-files.log"
    files = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "oqto.files",
            "--root",
            str(session.workspace_dir),
            "--port",
            str(port),
            "--max-upload-mb",
            str(2 * TRANSFER_BYTES // MB),
        ],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_listening(port, files, log, "oqto-files on a loopback port")
        upstream = f"http://127.0.0.1:{port}"
        with chp.running(upstream, ctx.bench.root / "chp-transfers.log", env) as url:
            yield [Target("chp", port=int(url.rsplit(":", 1)[1])), Target("tcp", port=port)]
    finally:
        stop_process(files)


async def transfers(ctx: StreamsContext) -> dict[str, Any]:
    """Download and upload of a large file, Oqto vs oqto-files directly (and CHP vs its own
    oqto-files on a loopback port), alternating, with the control plane's RSS sampled
    during each transfer."""
    session = ctx.sessions[0]
    size = SHORT_TRANSFER_BYTES if ctx.short else TRANSFER_BYTES
    # A 100 MB transfer takes about 0.1 s here and varies by 2x under load: many rounds.
    rounds = 1 if ctx.short else 12
    with _peer_ways(ctx) as peers:
        targets = [Target.oqto(session, "files"), Target.files(session), *peers]
        await _put_file(targets[1], BIG_FILE, size)
        out: dict[str, Any] = {"bytes": size, "rounds": rounds, "ways": [t.name for t in targets]}
        kinds: dict[str, Callable[[Target, int], Awaitable[float]]] = {
            "download": _download,
            "upload": _upload,
        }
        for kind, transfer in kinds.items():
            out[kind] = await _transfer_rounds(ctx, targets, transfer, size, rounds)
    return out


async def _transfer_rounds(
    ctx: StreamsContext,
    targets: list[Target],
    transfer: Callable[[Target, int], Awaitable[float]],
    size: int,
    rounds: int,
) -> dict[str, Any]:
    times: dict[str, list[float]] = {t.name: [] for t in targets}
    growth: dict[str, list[float]] = {t.name: [] for t in targets}
    peak: dict[str, float] = {t.name: 0.0 for t in targets}
    for target in targets:  # warm-up
        await transfer(target, size)
    for i in range(rounds):
        for target in targets if i % 2 == 0 else targets[::-1]:
            with RssSampler(ctx.pid) as rss:
                times[target.name].append(await transfer(target, size))
            s = rss.summary()
            growth[target.name].append(s["growth_mib"])
            peak[target.name] = max(peak[target.name], s["max_mib"])
    result: dict[str, Any] = {}
    for name, values in times.items():
        result[name] = {
            **summarize(values),
            "mb_per_s_p50": round(size / MB / percentile(values, 50), 1),
            "rss_growth_mib_max": max(growth[name]),
            "rss_growth_mib": growth[name],
            "rss_peak_mib": peak[name],
        }

    def rate(name: str) -> float | None:
        return result[name]["mb_per_s_p50"] if name in result else None

    result["throughput_ratio"] = ratio(rate("oqto"), rate("direct"))
    result["chp_throughput_ratio"] = ratio(rate("chp"), rate("tcp"))
    result["oqto_over_chp"] = ratio(rate("oqto"), rate("chp"))
    return result


# -- control-plane RSS idle and under load -------------------------------------------------


async def _bounded(n: int, limit: int, make: Callable[[int], Awaitable[Any]]) -> list[Any]:
    """`make(i)` for i < n, at most `limit` at a time; exceptions are returned."""
    gate = asyncio.Semaphore(limit)

    async def one(i: int) -> Any:
        async with gate:
            return await make(i)

    return await asyncio.gather(*(one(i) for i in range(n)), return_exceptions=True)


async def _open_terminal(session: Session) -> ClientConnection:
    """A terminal through Oqto as a browser opens it (permessage-deflate offered), its
    shell started and its prompt read."""
    ws = await ws_bench.Variant("load", session).proxied()
    try:
        await ws_bench.start_shell(ws)
    except BaseException:
        await ws.close()
        raise
    return ws


def _spread(total: int, sessions: list[Session]) -> list[Session]:
    return [sessions[i % len(sessions)] for i in range(total)]


async def rss(ctx: StreamsContext) -> dict[str, Any]:
    """The control plane's RSS after start, idle with the sessions running, and with many
    open SSE streams and terminals; then whether every stream still delivers an event."""
    n_sse, n_term = (20, 5) if ctx.short else (SSE_STREAMS, TERMINALS)
    settle = 0.5 if ctx.short else 2.0
    idle = await asyncio.to_thread(rss_steady, ctx.pid, settle)
    sse_sessions = _spread(n_sse, ctx.sessions)
    term_sessions = _spread(n_term, ctx.sessions)
    began = time.perf_counter()

    async def open_sse(i: int) -> tuple[EventStream, Session]:
        stream, _ = await EventStream.open(Target.oqto(sse_sessions[i], "agent"))
        return stream, sse_sessions[i]

    opened_sse = await _bounded(n_sse, 16, open_sse)
    opened_term = await _bounded(n_term, 8, lambda i: _open_terminal(term_sessions[i]))
    open_seconds = time.perf_counter() - began
    errors = [repr(e) for e in (*opened_sse, *opened_term) if isinstance(e, BaseException)]
    watching = [o for o in opened_sse if not isinstance(o, BaseException)]
    streams = [stream for stream, _ in watching]
    terminals = [t for t in opened_term if not isinstance(t, BaseException)]
    try:
        loaded = await asyncio.to_thread(rss_steady, ctx.pid, settle)
        # One event per session must reach every stream of that session.
        delivered = 0
        for session in ctx.sessions:
            watchers = [stream for stream, s in watching if s is session]
            marker = f"streams-fanout-{uuid.uuid4().hex[:12]}"
            futures = [w.expect(marker.encode()) for w in watchers]
            async with Trigger(session) as trigger:
                await trigger.fire(marker)
            if futures:
                done, _ = await asyncio.wait(futures, timeout=EVENT_TIMEOUT)
                delivered += len(done)
        after_events = await asyncio.to_thread(rss_steady, ctx.pid, settle / 2)
    finally:
        await asyncio.gather(*(s.close() for s in streams))
        await asyncio.gather(*(t.close() for t in terminals), return_exceptions=True)
    closed = await asyncio.to_thread(rss_steady, ctx.pid, settle)
    opened = len(streams) + len(terminals)
    return {
        "front_door_cap_per_client": FRONT_DOOR_CAP,
        "sessions": len(ctx.sessions),
        "after_start_mib": ctx.rss_after_start.get("rss_mib"),
        "idle_with_sessions_mib": idle["rss_mib"],
        "sse_streams": {"wanted": n_sse, "open": len(streams)},
        "terminals": {"wanted": n_term, "open": len(terminals)},
        "open_seconds": round(open_seconds, 2),
        "open_errors": errors[:10],
        "open_errors_total": len(errors),
        "loaded_mib": loaded["rss_mib"],
        "after_fanout_event_mib": after_events["rss_mib"],
        "fanout_delivered": {"streams": len(streams), "received": delivered},
        "after_close_mib": closed["rss_mib"],
        "kib_per_connection": round((loaded["rss_mib"] - idle["rss_mib"]) * 1024 / opened, 1)
        if opened
        else None,
    }


# -- terminal ------------------------------------------------------------------------------


async def terminal(ctx: StreamsContext) -> dict[str, Any]:
    """Echo and 10 MB of output, Oqto's relay vs ttyd's socket: helper "ws"'s benchmark
    (its memory case with a few terminals only; the load figure opens 100)."""
    variant = ws_bench.Variant("current", ctx.sessions[0])
    if ctx.short:
        settings = {"echo_rounds": 40, "handshakes": 4, "output_runs": 1, "output_mb": 1}
    else:
        settings = {"echo_rounds": 400, "handshakes": 20, "output_runs": 4, "output_mb": 10}
    return await ws_bench.measure([variant], terminals=2 if ctx.short else 10, **settings)


# -- running them --------------------------------------------------------------------------

FIGURES: dict[str, Callable[[StreamsContext], Awaitable[dict[str, Any]]]] = {
    "rss": rss,
    "sse": sse,
    "transfers": transfers,
    "terminal": terminal,
}


async def run_all(ctx: StreamsContext, only: list[str] | None = None) -> dict[str, Any]:
    """Every figure (or `only` these); one that fails is reported as its error, and the
    others still run."""
    results: dict[str, Any] = {}
    for name, figure in FIGURES.items():
        if only and name not in only:
            continue
        began = time.perf_counter()
        try:
            results[name] = await figure(ctx)
        except Exception as exc:  # reported, and the next figure runs
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
        results[name]["seconds"] = round(time.perf_counter() - began, 1)
        print(f"  {name}: {time.perf_counter() - began:.1f} s {results[name].get('error', '')}")
    return results


def _sse_md(r: dict[str, Any]) -> list[str]:
    rows = [
        [kind.replace("_", " "), name, s["n"], fmt_ms(s["p50_ms"], 3), fmt_ms(s["p99_ms"], 3)]
        for kind in ("first_event", "per_event")
        for name, s in r[kind].items()
    ]
    ratios = [
        [
            kind.replace("_", " "),
            r[f"{kind}_ratio"]["p50"],
            r[f"{kind}_ratio"]["p99"],
            fmt_ms(r[f"{kind}_ratio"]["added_p50_ms"], 3),
            fmt_ms(r[f"{kind}_ratio"]["added_p99_ms"], 3),
        ]
        for kind in ("first_event", "per_event")
    ]
    paired = r["per_event_added"]
    return [
        f"## SSE (`/agent/event` through Oqto vs opencode's `/event` over {r['direct_path']})",
        "",
        "First event: connect until `server.connected`. Per event: a title change until its "
        "`session.updated` arrives (both streams open, the same events).",
        "",
        md_table(["what", "path", "n", "p50 ms", "p99 ms"], rows),
        "",
        md_table(
            ["oqto vs direct", "p50 ratio", "p99 ratio", "added p50 ms", "added p99 ms"], ratios
        ),
        "",
        f"per event, paired difference (the same event on both streams): p50 "
        f"{fmt_ms(paired['p50_ms'], 3)} ms, p99 {fmt_ms(paired['p99_ms'], 3)} ms",
        "",
    ]


def _transfers_md(r: dict[str, Any]) -> list[str]:
    rows = [
        [
            kind,
            name,
            r[kind][name]["n"],
            r[kind][name]["mb_per_s_p50"],
            r[kind][name]["rss_growth_mib_max"],
            r[kind][name]["rss_peak_mib"],
            r[kind]["throughput_ratio"] if name == "oqto" else "",
        ]
        for kind in ("download", "upload")
        for name in r.get("ways", ("oqto", "direct"))
    ]
    headers = ["what", "path", "n", "MB/s p50", "RSS max-min MiB", "RSS peak MiB", "oqto/direct"]
    peers = [
        [kind, r[kind].get("chp_throughput_ratio"), r[kind].get("oqto_over_chp")]
        for kind in ("download", "upload")
    ]
    return [
        f"## Large transfers ({r['bytes'] / MB:g} MB through `/files` vs oqto-files' socket)",
        "",
        "RSS: the control plane's, sampled every 10 ms during each transfer. `chp`: CHP in "
        "front of a second oqto-files over the same workspace on a loopback port (`tcp`: that "
        "oqto-files directly), since CHP cannot reach a Unix socket.",
        "",
        md_table(headers, rows),
        "",
        md_table(["what", "CHP / its direct (tcp)", "Oqto / CHP"], peers),
        "",
    ]


def _rss_md(r: dict[str, Any]) -> list[str]:
    load = (
        f"{r['sse_streams']['open']}/{r['sse_streams']['wanted']} SSE + "
        f"{r['terminals']['open']}/{r['terminals']['wanted']} terminals open"
    )
    fanout = (
        f"after one event per session ({r['fanout_delivered']['received']}/"
        f"{r['fanout_delivered']['streams']} streams got it)"
    )
    failed = f"{r['open_errors_total']} failed to open" + (
        f" (first: {r['open_errors'][0]})" if r["open_errors"] else ""
    )
    return [
        f"## Control-plane RSS ({r['sessions']} sessions; front door set to "
        f"{r['front_door_cap_per_client']} connections per client, default 128)",
        "",
        md_table(
            ["state", "RSS MiB"],
            [
                ["after start, no session", r["after_start_mib"]],
                ["idle, sessions running", r["idle_with_sessions_mib"]],
                [load, r["loaded_mib"]],
                [fanout, r["after_fanout_event_mib"]],
                ["all closed again", r["after_close_mib"]],
            ],
        ),
        "",
        f"{r['kib_per_connection']} KiB per open connection; opening took {r['open_seconds']} s; "
        + failed,
        "",
    ]


def markdown(results: dict[str, Any]) -> str:
    lines = ["# Streams through Oqto vs the service directly (interleaved, one run)", ""]
    sections: dict[str, Callable[[dict[str, Any]], list[str]]] = {
        "sse": _sse_md,
        "transfers": _transfers_md,
        "rss": _rss_md,
        "terminal": lambda r: ["#" + ws_bench.markdown(r), ""],
    }
    for name, section in sections.items():
        if name not in results:
            continue
        if "error" in results[name]:
            lines += [f"## {name}: failed", "", f"`{results[name]['error']}`", ""]
        else:
            lines += section(results[name])
    return "\n".join(lines)


async def _main(args: argparse.Namespace, bench: BenchEnv) -> dict[str, Any]:
    began = time.perf_counter()
    ctx = await prepare(bench, short=args.short, sandbox=args.sandbox)
    print(f"{len(ctx.sessions)} sessions running after {time.perf_counter() - began:.1f} s")
    return await run_all(ctx, args.only)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--short", action="store_true", help="a few seconds of each figure")
    parser.add_argument(
        "--sandbox", choices=sorted(SANDBOX_FILES), default="development", help="profile"
    )
    parser.add_argument("--only", nargs="+", choices=sorted(FIGURES), help="these figures")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    info = machine_info()
    print(f"machine: {info['cpus']} CPUs, load {info['loadavg_at_start']}")
    with (
        bench_env("streams", keep=args.keep) as bench,
        asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner,
    ):
        results = runner.run(_main(args, bench))
    report = {
        "benchmark": "streams",
        "machine": info,
        "machine_loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
        "settings": vars(args),
        "results": results,
        "leftover_processes": bench.leftovers,
    }
    return publish("streams", report, markdown(results), bench.leftovers)


if __name__ == "__main__":
    sys.exit(main())
