"""The terminal WebSocket through the control plane, against ttyd directly.

A real `oqto serve --single-user` (bench/common.py) with a running session. Every figure
compares the relay (`/api/sessions/{id}/terminal`) with a client on ttyd's own Unix
socket (`<runtime>/<id>/terminal/ttyd.sock`, `/ws`, subprotocol `tty`), measured
interleaved in one run; the clients offer permessage-deflate as browsers do:

- echo: one character typed until its echo arrives (then rubbed out, not timed): p50/p99,
  and the connect (handshake) time;
- output: `cat` of a 10 MB text file in the shell, until a marker printed after it: MB/s,
  and the control plane's peak RSS while it flows (what the relay buffers);
- memory: the control plane's RSS with N terminals open through it (ttyd gives each
  connection a shell of its own), and what one costs.

`--baseline REV` also starts the control plane of a git revision (its `src/` from `git
archive`, first on PYTHONPATH) with a session of its own, and `--variant NAME=SRC` one
from any package tree (a prototype), so relays are compared in the same run, each against
its own session's ttyd. `--no-deflate`: the clients offer no compression (then the
relay's own cost shows; with deflate the Python client's inflating is the bottleneck).

`measure(variants, ...)` (async; a `Variant` is a name and a `common.Session`) is what
the benchmark suite calls; `python bench/ws_bench.py` runs it alone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import (
    REPO,
    BenchEnv,
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
    summarize,
)
from websockets.asyncio.client import ClientConnection, connect, unix_connect

OUTPUT_FILE = ".ws-bench-output.txt"
DONE = b"WS-DONE-42"  # printed by `echo WS-DONE-$((6*7))`, so the typed command never matches

Opener = Callable[[], Awaitable[ClientConnection]]


@dataclass(frozen=True)
class Variant:
    """One control plane and its session: `proxied` goes through it, `direct` to the
    same session's ttyd."""

    name: str
    session: Session
    deflate: bool = True  # browsers offer permessage-deflate

    @property
    def pid(self) -> int:
        assert self.session.server.proc is not None
        return self.session.server.proc.pid

    def proxied(self) -> Awaitable[ClientConnection]:
        url = self.session.server.url.replace("http", "ws", 1) + f"{self.session.base}/terminal"
        return connect(
            url,
            subprotocols=["tty"],  # type: ignore[list-item]
            additional_headers=self.session.auth,
            max_size=None,
            max_queue=None,  # read as a browser does, whatever the benchmark is doing
            compression="deflate" if self.deflate else None,
        )

    def direct(self) -> Awaitable[ClientConnection]:
        return unix_connect(
            str(self.session.terminal_socket),
            "ws://localhost/ws",
            subprotocols=["tty"],  # type: ignore[list-item]
            max_size=None,
            max_queue=None,  # read as a browser does, whatever the benchmark is doing
            compression="deflate" if self.deflate else None,
        )

    def openers(self) -> dict[str, Opener]:
        return {f"{self.name}_proxied": self.proxied, f"{self.name}_direct": self.direct}


# -- a ttyd terminal ------------------------------------------------------------------------


async def output_frame(ws: ClientConnection, timeout: float) -> bytes:
    """The next ttyd output frame's payload ('0' + data); other frame kinds are skipped."""
    async with asyncio.timeout(timeout):
        while True:
            frame = await ws.recv()
            if isinstance(frame, bytes) and frame[:1] == b"0":
                return frame[1:]


async def until_quiet(ws: ClientConnection, quiet: float = 0.3, limit: float = 15.0) -> None:
    """Read until the shell has printed nothing for `quiet` seconds (its prompt is out)."""
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        try:
            await output_frame(ws, quiet)
        except TimeoutError:
            return


async def start_shell(ws: ClientConnection) -> None:
    """ttyd's opening message, then a shell with a short prompt and no flow control."""
    await ws.send(json.dumps({"AuthToken": "", "columns": 120, "rows": 40}).encode())
    await ws.send(b"0stty -ixon; PS1='$ '\r")
    await until_quiet(ws)


@contextlib.asynccontextmanager
async def shell(opener: Opener) -> AsyncIterator[ClientConnection]:
    ws = await opener()
    try:
        await start_shell(ws)
        yield ws
    finally:
        await ws.close()


async def until_marker(ws: ClientConnection, marker: bytes, timeout: float = 120) -> int:
    """Read output until `marker`; returns the bytes received."""
    received, tail = 0, b""
    async with asyncio.timeout(timeout):
        while True:
            data = await output_frame(ws, timeout)
            received += len(data)
            if marker in tail + data:
                return received
            tail = data[-len(marker) :]


def alternating(names: Sequence[str], i: int) -> list[str]:
    """Round i's order: rotated by i, so no variant always goes first or last."""
    shift = i % len(names)
    return [*names[shift:], *names[:shift]]


# -- the cases ------------------------------------------------------------------------------


async def echo_round_trip(ws: ClientConnection) -> float:
    began = time.perf_counter()
    await ws.send(b"0x")
    while b"x" not in await output_frame(ws, 10):
        pass
    elapsed = time.perf_counter() - began
    await ws.send(b"0\x7f")  # rub it out again so the line never grows; not timed
    await output_frame(ws, 10)
    return elapsed


async def echo(openers: dict[str, Opener], rounds: int, handshakes: int) -> dict[str, Any]:
    handshake: dict[str, list[float]] = {mode: [] for mode in openers}
    for i in range(handshakes):
        for mode in alternating(list(openers), i):
            began = time.perf_counter()
            ws = await openers[mode]()
            handshake[mode].append(time.perf_counter() - began)
            await ws.close()
    rtt: dict[str, list[float]] = {mode: [] for mode in openers}
    async with contextlib.AsyncExitStack() as stack:
        sockets = {mode: await stack.enter_async_context(shell(o)) for mode, o in openers.items()}
        for ws in sockets.values():
            for _ in range(20):  # warm-up
                await echo_round_trip(ws)
        for i in range(rounds):
            for mode in alternating(list(sockets), i):
                rtt[mode].append(await echo_round_trip(sockets[mode]))
        extensions = {
            mode: [type(e).__name__ for e in ws.protocol.extensions] for mode, ws in sockets.items()
        }
    return {"handshake": handshake, "round_trip": rtt, "extensions": extensions}


async def make_output_file(opener: Opener, megabytes: int) -> None:
    async with shell(opener) as ws:
        raw = megabytes * 1_000_000 * 3 // 4  # base64 makes 4 bytes of 3
        await ws.send(
            f"0head -c {raw} /dev/urandom | base64 -w 120 > {OUTPUT_FILE}; "
            "echo WS-DONE-$((6*7))\r".encode()
        )
        await until_marker(ws, DONE)


async def output(
    openers: dict[str, Opener], pids: dict[str, int], runs: int, megabytes: int
) -> dict[str, Any]:
    """`cat` the file in a terminal of each variant in turn; MB/s per run, and the peak
    RSS of the control plane (sampled every 20 ms) while its proxied runs flow. Each run
    has a fresh terminal: ttyd hangs up on a client that has been connected for 10 s
    while another of its connections floods it (its ping check; direct ones too)."""
    seconds: dict[str, list[float]] = {mode: [] for mode in openers}
    received: dict[str, int] = {}
    peak_kb: dict[str, int] = {}
    for i in range(runs + 1):  # run 0 warms the page cache and the relay up
        for mode in alternating(list(openers), i):
            async with shell(openers[mode]) as ws:
                pid = pids.get(mode)
                sampler = asyncio.create_task(_peak_rss(pid)) if pid else None
                began = time.perf_counter()
                await ws.send(f"0cat {OUTPUT_FILE}; echo WS-DONE-$((6*7))\r".encode())
                received[mode] = await until_marker(ws, DONE)
                elapsed = time.perf_counter() - began
                if sampler is not None:
                    sampler.cancel()
                    peak_kb[mode] = max(peak_kb.get(mode, 0), await sampler)
                if i:
                    seconds[mode].append(elapsed)
    return {
        mode: {
            "bytes": received[mode],
            "runs_s": [round(s, 4) for s in values],
            "mb_per_s_p50": round(received[mode] / 1e6 / percentile(values, 50), 1),
            **({"peak_rss_mb": round(peak_kb[mode] / 1024, 1)} if mode in peak_kb else {}),
        }
        for mode, values in seconds.items()
    }


async def _peak_rss(pid: int) -> int:
    peak = rss_kb(pid)
    try:
        while True:
            await asyncio.sleep(0.02)
            peak = max(peak, rss_kb(pid))
    except asyncio.CancelledError:
        return max(peak, rss_kb(pid))


async def memory(variant: Variant, terminals: int, parallel: int = 8) -> dict[str, Any]:
    """RSS of the control plane with `terminals` open through it, each with its shell
    started and its prompt read."""
    async with shell(variant.proxied):  # warm-up: every import and cache the path needs
        pass
    await asyncio.sleep(0.5)  # the warm-up shell's exit settles before the baseline read
    before = rss_kb(variant.pid)
    gate = asyncio.Semaphore(parallel)
    async with contextlib.AsyncExitStack() as stack:

        async def open_one() -> None:
            async with gate:
                await stack.enter_async_context(shell(variant.proxied))

        await asyncio.gather(*(open_one() for _ in range(terminals)))
        during = rss_kb(variant.pid)
    after = rss_kb(variant.pid)
    return {
        "terminals": terminals,
        "rss_before_mb": round(before / 1024, 1),
        "rss_open_mb": round(during / 1024, 1),
        "rss_after_close_mb": round(after / 1024, 1),
        "per_terminal_kb": round((during - before) / terminals, 1),
    }


async def measure(
    variants: Sequence[Variant],
    *,
    echo_rounds: int = 400,
    handshakes: int = 20,
    output_runs: int = 4,
    output_mb: int = 10,
    terminals: int = 100,
) -> dict[str, Any]:
    """Every case for every variant, interleaved. Returns the figures and, per variant,
    the ratios against its own session's ttyd (`ratios[variant]`)."""
    openers = {mode: o for v in variants for mode, o in v.openers().items()}
    pids = {f"{v.name}_proxied": v.pid for v in variants}
    for v in variants:
        await make_output_file(v.direct, output_mb)
    out: dict[str, Any] = {"echo": await echo(openers, echo_rounds, handshakes)}
    out["output"] = await output(openers, pids, output_runs, output_mb)
    out["memory"] = {v.name: await memory(v, terminals) for v in variants}
    out["ratios"] = {v.name: _ratios(out, v.name) for v in variants}
    return out


def _ratios(out: dict[str, Any], name: str) -> dict[str, Any]:
    proxied, direct = f"{name}_proxied", f"{name}_direct"
    rtt = {m: summarize(out["echo"]["round_trip"][m]) for m in (proxied, direct)}
    shake = {m: summarize(out["echo"]["handshake"][m]) for m in (proxied, direct)}
    mbps = {m: out["output"][m]["mb_per_s_p50"] for m in (proxied, direct)}
    return {
        "echo_p50_added_ms": round(rtt[proxied]["p50_ms"] - rtt[direct]["p50_ms"], 3),
        "echo_p99_added_ms": round(rtt[proxied]["p99_ms"] - rtt[direct]["p99_ms"], 3),
        "echo_p50": ratio(rtt[proxied]["p50_ms"], rtt[direct]["p50_ms"]),
        "echo_p99": ratio(rtt[proxied]["p99_ms"], rtt[direct]["p99_ms"]),
        "handshake_p50": ratio(shake[proxied]["p50_ms"], shake[direct]["p50_ms"]),
        "output_throughput": ratio(mbps[proxied], mbps[direct]),
        "per_terminal_kb": out["memory"][name]["per_terminal_kb"],
    }


# -- running it alone -----------------------------------------------------------------------


def baseline_src(rev: str, dest: Path) -> Path:
    """`src/` of a git revision, for PYTHONPATH."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", rev, "src"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest / "src"


async def start_variants(
    bench: BenchEnv, sources: dict[str, str | None], deflate: bool
) -> list[Variant]:
    """A server and a session per variant: its `src/` first on PYTHONPATH (None: this
    checkout's)."""
    # 100 terminals and the benchmark's other connections come from one loopback address.
    env = {"OQTO_SERVER__MAX_CONNECTIONS_PER_CLIENT": "1000"}
    servers = await asyncio.gather(
        *(
            asyncio.to_thread(
                bench.server, f"server-{name}", env=env | ({"PYTHONPATH": src} if src else {})
            )
            for name, src in sources.items()
        )
    )
    sessions = await asyncio.gather(
        *(start_session(bench, "development", "bench-ws", server=s) for s in servers)
    )
    return [Variant(name, s, deflate) for name, s in zip(sources, sessions, strict=True)]


def markdown(out: dict[str, Any]) -> str:
    rows = []
    for kind, label in (("round_trip", "echo"), ("handshake", "connect")):
        for mode, values in out["echo"][kind].items():
            s = summarize(values)
            rows.append([label, mode, s["n"], *(fmt_ms(s[k], 3) for k in ("p50_ms", "p99_ms"))])
    lines = [
        "# Terminal WebSocket: relay vs ttyd directly (interleaved)",
        "",
        f"negotiated extensions: {out['echo']['extensions']}",
        "",
        md_table(["case", "variant", "n", "p50 ms", "p99 ms"], rows),
        "",
        md_table(
            ["output", "bytes", "MB/s (p50)", "control plane peak RSS MB"],
            [
                [m, v["bytes"], v["mb_per_s_p50"], v.get("peak_rss_mb", "-")]
                for m, v in out["output"].items()
            ],
        ),
        "",
        md_table(
            ["memory", "terminals", "RSS before MB", "RSS open MB", "per terminal KB"],
            [
                [n, m["terminals"], m["rss_before_mb"], m["rss_open_mb"], m["per_terminal_kb"]]
                for n, m in out["memory"].items()
            ],
        ),
        "",
        md_table(
            ["ratios (proxied vs direct)", *next(iter(out["ratios"].values())).keys()],
            [[n, *r.values()] for n, r in out["ratios"].items()],
        ),
    ]
    return "\n".join(lines)


async def _run(args: argparse.Namespace, bench: BenchEnv, tmp: Path) -> dict[str, Any]:
    sources: dict[str, str | None] = {"current": None}
    if args.baseline:
        sources["baseline"] = str(baseline_src(args.baseline, tmp))
    for spec in args.variant:
        name, _, src = spec.partition("=")
        sources[name] = src
    variants = await start_variants(bench, sources, not args.no_deflate)
    return await measure(
        variants,
        echo_rounds=args.echo_rounds,
        handshakes=args.handshakes,
        output_runs=args.output_runs,
        output_mb=args.output_mb,
        terminals=args.terminals,
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--echo-rounds", type=int, default=400, help="echoes per variant (400)")
    parser.add_argument("--handshakes", type=int, default=20, help="connects per variant (20)")
    parser.add_argument("--output-runs", type=int, default=4, help="cat runs per variant (4)")
    parser.add_argument("--output-mb", type=int, default=10, help="size of the output (10)")
    parser.add_argument("--terminals", type=int, default=100, help="open for RSS (100)")
    parser.add_argument("--baseline", metavar="REV", help="also run this revision's relay")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=SRC",
        help="also run the control plane whose package tree is SRC (a src/ directory)",
    )
    parser.add_argument(
        "--no-deflate", action="store_true", help="clients offer no permessage-deflate"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    info = machine_info()
    print(f"machine: {info['cpus']} CPUs, load {info['loadavg_at_start']}")
    with (
        tempfile.TemporaryDirectory(prefix="oqto-wsbench-src-") as tmp,
        bench_env("bench-ws", keep=args.keep) as bench,
    ):
        out = asyncio.run(_run(args, bench, Path(tmp)))
    report = {
        "benchmark": "ws_bench",
        "machine": info,
        "machine_loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
        "settings": vars(args),
        "results": out,
        "leftover_processes": bench.leftovers,
    }
    return publish("ws_bench", report, markdown(out), bench.leftovers)


if __name__ == "__main__":
    sys.exit(main())
