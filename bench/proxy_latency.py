"""What the control plane's proxy costs, measured against the session's services directly.

One real `oqto serve --single-user` with one running session (real opencode, oqto-files,
ttyd) under the built-in sandbox profile (development: opencode in its own network
namespace, reached through the sandbox init's Unix-socket relay), and a second server
whose admin sandbox file says `profile = "minimal"` (network `host`: opencode on the
host's loopback) with one session. Every case runs its variants in the SAME run,
interleaved in short slices (`--slice`), so the noise of a small shared machine hits all
alike; the ratios are the result, absolute times are context.

- HTTP, concurrency 1 and 16, keep-alive clients (httpx.AsyncClient):
    agent_health: `GET /api/sessions/{id}/agent/global/health` vs `GET /global/health`
           on opencode directly, for both sessions: proxied and direct through the relay
           (`<runtime>/<id>/agent/agent.sock`), proxied and direct over loopback TCP;
    files: `GET /api/sessions/{id}/files/tree?path=` vs `GET /tree?path=` on the
           oqto-files Unix socket (`<runtime>/<id>/files/files.sock`);
    agent: `GET /api/sessions/{id}/agent/session` vs `GET /session` on opencode
           (Basic-auth password read from the session's opencode process in /proc);
    floor: the control plane's own routes, to split the proxy cost into layers:
           `/api/health` (no auth), `/api/auth/me` (token lookup in the DB, in a worker
           thread), `/api/sessions/{id}` (token lookup + session row).
- Throughput: a 10 MB file through `/files/download`, proxied vs direct (MB/s).
- WebSocket: the terminal. One character typed, wait for its echo (then a backspace, not
  timed), proxied (`/api/sessions/{id}/terminal`) vs ttyd's Unix socket (`/ws`, subprotocol
  `tty`); plus the WebSocket handshake time.

All but `agent_health` use the sandboxed (development) session. The benchmark's own
client shares the machine: a direct request still pays the client's Python/httpx cost, so
ratios understate nothing but absolute differences are the cleaner "added by the proxy"
number.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from common import (
    BenchEnv,
    bench_env,
    fmt_ms,
    machine_info,
    md_table,
    percentile,
    publish,
    ratio,
    start_session,
    summarize,
)
from websockets.asyncio.client import ClientConnection, connect, unix_connect

BIG_FILE = "bench-10mb.bin"
BIG_FILE_BYTES = 10 * 1024 * 1024
LIMITS = httpx.Limits(max_connections=64, max_keepalive_connections=64)


@dataclass
class Target:
    mode: str  # "proxied" | "direct" | a floor label
    client: httpx.AsyncClient
    path: str


@dataclass
class Sample:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    busy_s: float = 0.0  # wall time spent running this target's slices

    def stats(self) -> dict[str, Any]:
        out: dict[str, Any] = summarize(self.latencies)
        out["errors"] = self.errors
        out["req_per_s"] = round(len(self.latencies) / self.busy_s, 1) if self.busy_s else None
        return out


# -- HTTP --------------------------------------------------------------------------------


async def _worker(target: Target, deadline: float, sample: Sample) -> None:
    while time.perf_counter() < deadline:
        began = time.perf_counter()
        try:
            response = await target.client.get(target.path)
            ok = response.status_code == 200
        except httpx.HTTPError:
            ok = False
        if ok:
            sample.latencies.append(time.perf_counter() - began)
        else:
            sample.errors += 1


async def _slice(target: Target, concurrency: int, seconds: float, sample: Sample) -> None:
    began = time.perf_counter()
    deadline = began + seconds
    await asyncio.gather(*(_worker(target, deadline, sample) for _ in range(concurrency)))
    sample.busy_s += time.perf_counter() - began


async def interleaved(
    targets: list[Target], concurrency: int, duration: float, slice_s: float
) -> dict[str, Sample]:
    """Each target gets `duration` seconds in total, in slices taken in rotating order."""
    samples = {t.mode: Sample() for t in targets}
    for target in targets:  # warm-up: connections, caches, JIT of the services
        await _slice(target, concurrency, min(0.3, slice_s), Sample())
    rounds = max(1, round(duration / slice_s))
    for i in range(rounds):
        shift = i % len(targets)
        for target in targets[shift:] + targets[:shift]:
            await _slice(target, concurrency, slice_s, samples[target.mode])
    return samples


# -- download ----------------------------------------------------------------------------


async def put_big_file(files_direct: httpx.AsyncClient) -> None:
    chunk = bytes(range(256)) * 4096  # 1 MiB, incompressible enough for this purpose
    response = await files_direct.put(
        f"/file?path={BIG_FILE}", content=chunk * (BIG_FILE_BYTES // len(chunk))
    )
    response.raise_for_status()


async def download_once(client: httpx.AsyncClient, path: str) -> float:
    began = time.perf_counter()
    received = 0
    async with client.stream("GET", path) as response:
        response.raise_for_status()
        async for chunk in response.aiter_raw():
            received += len(chunk)
    if received != BIG_FILE_BYTES:
        raise RuntimeError(f"downloaded {received} bytes, expected {BIG_FILE_BYTES}")
    return time.perf_counter() - began


async def downloads(targets: list[Target], rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {t.mode: [] for t in targets}
    for target in targets:
        await download_once(target.client, target.path)  # warm-up
    for i in range(rounds):
        for target in targets if i % 2 == 0 else targets[::-1]:
            times[target.mode].append(await download_once(target.client, target.path))
    return times


# -- WebSocket ---------------------------------------------------------------------------


async def _output(ws: ClientConnection, timeout: float) -> bytes:
    """The next ttyd output frame's payload ('0' + data); other frame kinds are skipped."""
    async with asyncio.timeout(timeout):
        while True:
            frame = await ws.recv()
            if isinstance(frame, bytes) and frame[:1] == b"0":
                return frame[1:]


async def _drain(ws: ClientConnection, quiet: float = 0.3, limit: float = 15.0) -> None:
    """Read until the shell has been quiet for `quiet` seconds (prompt printed)."""
    began = time.perf_counter()
    while time.perf_counter() - began < limit:
        try:
            await _output(ws, quiet)
        except TimeoutError:
            return


async def _echo_round_trip(ws: ClientConnection) -> float:
    began = time.perf_counter()
    await ws.send(b"0x")
    while b"x" not in await _output(ws, 10):
        pass
    elapsed = time.perf_counter() - began
    await ws.send(b"0\x7f")  # rub it out again so the line never grows; not timed
    await _output(ws, 10)
    return elapsed


WsOpener = Callable[[], Awaitable[ClientConnection]]


async def terminal(openers: dict[str, WsOpener], rounds: int, handshakes: int) -> dict[str, Any]:
    handshake: dict[str, list[float]] = {mode: [] for mode in openers}
    for i in range(handshakes):
        for mode in list(openers) if i % 2 == 0 else list(openers)[::-1]:
            began = time.perf_counter()
            ws = await openers[mode]()
            handshake[mode].append(time.perf_counter() - began)
            await ws.close()
    sockets = {mode: await opener() for mode, opener in openers.items()}
    rtt: dict[str, list[float]] = {mode: [] for mode in openers}
    try:
        for ws in sockets.values():
            await ws.send(json.dumps({"AuthToken": "", "columns": 80, "rows": 24}).encode())
            await ws.send(b"0stty -ixon; PS1='$ '\r")
            await _drain(ws)
        for ws in sockets.values():
            for _ in range(20):  # warm-up
                await _echo_round_trip(ws)
        modes = list(sockets)
        for i in range(rounds):
            for mode in modes if i % 2 == 0 else modes[::-1]:
                rtt[mode].append(await _echo_round_trip(sockets[mode]))
    finally:
        for ws in sockets.values():
            await ws.close()
    return {"handshake": handshake, "round_trip": rtt}


# -- driver ------------------------------------------------------------------------------


async def run(args: argparse.Namespace, bench: BenchEnv) -> dict[str, Any]:
    began = time.perf_counter()
    session, host = await asyncio.gather(
        start_session(bench, "development"), start_session(bench, "minimal")
    )
    print(f"sessions {session.id}, {host.id} running after {time.perf_counter() - began:.1f} s")
    for each, network in ((session, "allowlist"), (host, "host")):
        if each.sandbox.get("network") != network:
            raise RuntimeError(f"session {each.id} is confined as {each.sandbox}")
    base = f"/api/sessions/{session.id}"
    host_base = f"/api/sessions/{host.id}"
    auth = {"Authorization": f"Bearer {session.token}"}
    proxied = httpx.AsyncClient(
        base_url=session.server.url, headers=auth, limits=LIMITS, timeout=60
    )
    host_proxied = httpx.AsyncClient(
        base_url=host.server.url,
        headers={"Authorization": f"Bearer {host.token}"},
        limits=LIMITS,
        timeout=60,
    )
    files_direct = httpx.AsyncClient(
        base_url="http://files",
        transport=httpx.AsyncHTTPTransport(uds=str(session.files_socket), limits=LIMITS),
        timeout=60,
    )
    agent_direct = session.agent.client(LIMITS)
    host_agent_direct = host.agent.client(LIMITS)
    out: dict[str, Any] = {
        "session_id": session.id,
        "host_session_id": host.id,
        "sandbox": {"development": session.sandbox, "minimal": host.sandbox},
        "agent_paths": {"development": session.agent.path, "minimal": host.agent.path},
        "http": {},
    }
    clients = (proxied, host_proxied, files_direct, agent_direct, host_agent_direct)
    try:
        await put_big_file(files_direct)
        cases = {
            "agent_health": [
                Target("sandboxed_proxied", proxied, f"{base}/agent/global/health"),
                Target("sandboxed_direct_unix", agent_direct, "/global/health"),
                Target("host_proxied", host_proxied, f"{host_base}/agent/global/health"),
                Target("host_direct_tcp", host_agent_direct, "/global/health"),
            ],
            "files_tree": [
                Target("proxied", proxied, f"{base}/files/tree?path="),
                Target("direct", files_direct, "/tree?path="),
            ],
            "agent_session": [
                Target("proxied", proxied, f"{base}/agent/session"),
                Target("direct", agent_direct, "/session"),
            ],
            "control_plane_floor": [
                Target("health", proxied, "/api/health"),
                Target("auth_me", proxied, "/api/auth/me"),
                Target("session_get", proxied, base),
                Target("files_proxied", proxied, f"{base}/files/tree?path="),
                Target("files_direct", files_direct, "/tree?path="),
            ],
        }
        for name, targets in cases.items():
            for concurrency in args.concurrency:
                samples = await interleaved(targets, concurrency, args.duration, args.slice)
                stats = {mode: sample.stats() for mode, sample in samples.items()}
                out["http"][f"{name}@c{concurrency}"] = stats
                print(f"  {name} c={concurrency}: " + _brief(stats))

        times = await downloads(
            [
                Target("proxied", proxied, f"{base}/files/download?path={BIG_FILE}"),
                Target("direct", files_direct, f"/download?path={BIG_FILE}"),
            ],
            args.downloads,
        )
        out["download"] = {
            mode: {
                **summarize(values),
                "mb_per_s_p50": round(BIG_FILE_BYTES / 1e6 / percentile(values, 50), 1),
                "mb_per_s_aggregate": round(BIG_FILE_BYTES * len(values) / 1e6 / sum(values), 1),
            }
            for mode, values in times.items()
        }
        print(
            "  download 10 MB: "
            + ", ".join(f"{m} {v['mb_per_s_p50']} MB/s" for m, v in out["download"].items())
        )

        ws_url = session.server.url.replace("http", "ws", 1) + f"{base}/terminal"
        openers: dict[str, WsOpener] = {
            "proxied": lambda: connect(
                ws_url,
                subprotocols=["tty"],  # type: ignore[list-item]
                additional_headers=auth,
                max_size=None,
            ),
            "direct": lambda: unix_connect(
                str(session.terminal_socket),
                "ws://localhost/ws",
                subprotocols=["tty"],
                max_size=None,
            ),
        }
        ws = await terminal(openers, args.ws_rounds, args.ws_handshakes)
        out["websocket"] = {
            kind: {mode: summarize(values) for mode, values in per_mode.items()}
            for kind, per_mode in ws.items()
        }
        print("  terminal echo: " + _brief(out["websocket"]["round_trip"]))
    finally:
        for client in clients:
            await client.aclose()
    return out


def _brief(stats: dict[str, dict[str, Any]]) -> str:
    return ", ".join(
        f"{mode} p50 {fmt_ms(s.get('p50_ms'))} ms"
        + (f" {s['req_per_s']} req/s" if s.get("req_per_s") else "")
        for mode, s in stats.items()
    )


def analyse(out: dict[str, Any]) -> dict[str, Any]:
    ratios: dict[str, Any] = {}
    for case, stats in out["http"].items():
        for label, (num, den) in _pairs(stats).items():
            p, d = stats[num], stats[den]
            ratios[f"{case} {label}".rstrip()] = {
                "p50": ratio(p.get("p50_ms"), d.get("p50_ms")),
                "p90": ratio(p.get("p90_ms"), d.get("p90_ms")),
                "p99": ratio(p.get("p99_ms"), d.get("p99_ms")),
                "req_per_s_direct_over_proxied": ratio(d.get("req_per_s"), p.get("req_per_s")),
                "added_p50_ms": round(p["p50_ms"] - d["p50_ms"], 3)
                if p.get("n") and d.get("n")
                else None,
            }
    dl = out["download"]
    ratios["download_10mb"] = {
        "throughput_direct_over_proxied": ratio(
            dl["direct"]["mb_per_s_p50"], dl["proxied"]["mb_per_s_p50"]
        )
    }
    ws = out["websocket"]
    for kind in ("round_trip", "handshake"):
        p, d = ws[kind]["proxied"], ws[kind]["direct"]
        ratios[f"terminal_{kind}"] = {
            "p50": ratio(p.get("p50_ms"), d.get("p50_ms")),
            "p90": ratio(p.get("p90_ms"), d.get("p90_ms")),
            "added_p50_ms": round(p["p50_ms"] - d["p50_ms"], 3) if p.get("n") else None,
        }
    # Layers of the control plane, from the floor case at concurrency 1.
    floor = out["http"].get("control_plane_floor@c1")
    if floor:
        p50 = {mode: s.get("p50_ms") for mode, s in floor.items()}
        ratios["layers_c1_p50_ms"] = {
            "framework+middleware+log (health)": p50["health"],
            "+ token lookup in worker thread (auth/me - health)": _diff(
                p50["auth_me"], p50["health"]
            ),
            "+ session row lookup (session_get - auth/me)": _diff(
                p50["session_get"], p50["auth_me"]
            ),
            "+ upstream request and streamed response (files_proxied - session_get - "
            "files_direct)": _diff(
                _diff(p50["files_proxied"], p50["session_get"]), p50["files_direct"]
            ),
            "proxy total minus service (files_proxied - files_direct)": _diff(
                p50["files_proxied"], p50["files_direct"]
            ),
        }
    return ratios


def _pairs(stats: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """The (slower, baseline) variants each case compares, by label."""
    if "sandboxed_proxied" in stats:
        return {
            "sandboxed proxied/direct": ("sandboxed_proxied", "sandboxed_direct_unix"),
            "host proxied/direct": ("host_proxied", "host_direct_tcp"),
            "proxied sandboxed/host": ("sandboxed_proxied", "host_proxied"),
            "direct unix relay/tcp": ("sandboxed_direct_unix", "host_direct_tcp"),
        }
    if "proxied" in stats:
        return {"": ("proxied", "direct")}
    return {"": ("files_proxied", "files_direct")}


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(a - b, 3)


def markdown(args: argparse.Namespace, out: dict[str, Any], ratios: dict[str, Any]) -> str:
    rows = []
    for case, stats in out["http"].items():
        for mode, s in stats.items():
            rows.append(
                [
                    case,
                    mode,
                    str(s.get("n", 0)),
                    fmt_ms(s.get("p50_ms")),
                    fmt_ms(s.get("p90_ms")),
                    fmt_ms(s.get("p99_ms")),
                    str(s.get("req_per_s") or "-"),
                    str(s.get("errors", 0)),
                ]
            )
    ratio_rows = [
        [
            case,
            str(r.get("p50")),
            str(r.get("p90")),
            str(r.get("p99")),
            str(r.get("req_per_s_direct_over_proxied")),
            fmt_ms(r.get("added_p50_ms"), 3),
        ]
        for case, r in ratios.items()
        if case.split(" ")[0] in out["http"]
    ]
    dl = out["download"]
    ws = out["websocket"]
    lines = [
        f"# Proxy latency ({args.duration:g} s per variant and concurrency, interleaved in "
        f"{args.slice:g} s slices)",
        "",
        "## HTTP",
        "",
        md_table(["case", "variant", "n", "p50 ms", "p90 ms", "p99 ms", "req/s", "errors"], rows),
        "",
        "## Ratios (proxied / direct unless named)",
        "",
        md_table(["case", "p50", "p90", "p99", "req/s inverse", "added p50 ms"], ratio_rows),
        "",
        "## 10 MB download",
        "",
        md_table(
            ["variant", "n", "p50 ms", "MB/s (p50)", "MB/s (aggregate)"],
            [
                [
                    mode,
                    str(v["n"]),
                    fmt_ms(v["p50_ms"], 1),
                    str(v["mb_per_s_p50"]),
                    str(v["mb_per_s_aggregate"]),
                ]
                for mode, v in dl.items()
            ],
        ),
        f"\nthroughput direct/proxied: {ratios['download_10mb']['throughput_direct_over_proxied']}",
        "",
        "## Terminal WebSocket",
        "",
        md_table(
            ["what", "variant", "n", "p50 ms", "p90 ms", "p99 ms"],
            [
                [
                    {"round_trip": "type 1 char -> echo", "handshake": "connect (handshake)"}[kind],
                    mode,
                    str(s.get("n", 0)),
                    fmt_ms(s.get("p50_ms"), 3),
                    fmt_ms(s.get("p90_ms"), 3),
                    fmt_ms(s.get("p99_ms"), 3),
                ]
                for kind, per_mode in ws.items()
                for mode, s in per_mode.items()
            ],
        ),
        "",
        f"echo round trip proxied/direct: p50 {ratios['terminal_round_trip']['p50']}, "
        f"p90 {ratios['terminal_round_trip']['p90']} "
        f"(+{fmt_ms(ratios['terminal_round_trip']['added_p50_ms'], 3)} ms); "
        f"handshake p50 {ratios['terminal_handshake']['p50']}",
    ]
    layers = ratios.get("layers_c1_p50_ms")
    if layers:
        lines += [
            "",
            "## Where the control plane's time goes (concurrency 1, p50 ms)",
            "",
            md_table(["layer", "ms"], [[k, fmt_ms(v, 3)] for k, v in layers.items()]),
        ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--duration", type=float, default=4.0, help="seconds per variant and concurrency (4)"
    )
    parser.add_argument("--slice", type=float, default=0.5, help="interleaving slice, s (0.5)")
    parser.add_argument(
        "--concurrency",
        type=int,
        nargs="+",
        default=[1, 16],
        help="concurrency levels for the HTTP cases (1 16)",
    )
    parser.add_argument("--downloads", type=int, default=10, help="10 MB downloads each (10)")
    parser.add_argument("--ws-rounds", type=int, default=400, help="echo round trips each (400)")
    parser.add_argument(
        "--ws-handshakes", type=int, default=20, help="WebSocket connects each (20)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    info = machine_info()
    print(f"machine: {info['cpus']} CPUs, load {info['loadavg_at_start']}, {info['opencode']}")
    with bench_env("bench-proxy", keep=args.keep) as bench:
        out = asyncio.run(run(args, bench))
    ratios = analyse(out)
    report = {
        "benchmark": "proxy_latency",
        "machine": info,
        "machine_loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
        "settings": vars(args),
        "results": out,
        "ratios": ratios,
        "leftover_processes": bench.leftovers,
    }
    md = markdown(args, out, ratios)
    return publish("proxy_latency", report, md, bench.leftovers)


if __name__ == "__main__":
    sys.exit(main())
