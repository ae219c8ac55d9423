"""Sandbox benchmark: what bubblewrap and the in-sandbox init cost a session.

- start-up, interleaved in rotating order per run: `true` bare, under bwrap (the full
  command line of the built-in development policy for a fake home), and under bwrap plus
  the init (which installs the seccomp filter and execs); oqto-files bare vs under
  bwrap + init, from spawn to its first good `/health` (polled every `--poll`);
- request latency through the init's agent relay (Unix socket -> loopback TCP, the path
  the control plane takes to opencode in `allowlist`/`none`) vs loopback TCP straight to
  the same small keep-alive HTTP server (the path without a network namespace), in
  alternating slices; and the same for a new connection per request. The relay runs
  outside a network namespace here so that both paths reach the one server; the
  namespace adds nothing per packet on loopback.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import machine_info, md_table, publish, ratio, summarize

from oqto.protocol.sessions import ServiceName
from oqto.sandbox.bwrap import SandboxContext, build_argv
from oqto.sandbox.loader import resolve_policy

INIT = [sys.executable, "-m", "oqto.sandbox.init"]
FILES = [str(Path(sys.executable).with_name("oqto-files"))]
REQUEST = b"GET /x HTTP/1.1\r\nHost: bench\r\n\r\n"
# A minimal keep-alive HTTP server: the relay's cost, not a framework's, is what is timed.
SERVER = r"""
import asyncio, sys
BODY = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
class P(asyncio.Protocol):
    def connection_made(self, t): self.t, self.buf = t, b""
    def data_received(self, d):
        self.buf += d
        while b"\r\n\r\n" in self.buf:
            _, self.buf = self.buf.split(b"\r\n\r\n", 1)
            self.t.write(BODY)
async def main():
    s = await asyncio.get_running_loop().create_server(P, "127.0.0.1", int(sys.argv[1]))
    print("ready", flush=True)
    await s.serve_forever()
asyncio.run(main())
"""


class Bench:
    def __init__(self, root: Path, bwrap: str, poll: float) -> None:
        self.root, self.bwrap, self.poll = root, bwrap, poll
        self.home = root / "home" / "bench"
        self.workspace = self.home / "ws"
        self.own = root / "run" / "s1" / "files"
        for d in (self.workspace, self.own):
            d.mkdir(parents=True)
        (self.workspace / "README.md").write_text("bench\n")
        resolved = resolve_policy(
            root / "no-admin-file.toml",  # missing: the built-in default (development)
            home=self.home,
            workspace=self.workspace,
            default_allow_hosts=(),
        )
        self.policy = resolved.policy
        self.procs: list[subprocess.Popen[bytes]] = []

    def sandbox(self, service: ServiceName) -> list[str]:
        ctx = SandboxContext(
            home=self.home,
            workspace=self.workspace,
            service=service,
            own_dirs=(self.own,),
            hidden=(self.root / "run",),
        )
        return build_argv(self.bwrap, self.policy, ctx)

    def env(self) -> dict[str, str]:
        return {"HOME": str(self.home), "PATH": os.environ["PATH"]}

    def time_exit(self, argv: list[str]) -> float:
        began = time.perf_counter()
        subprocess.run(argv, check=True, env=self.env(), stdout=subprocess.DEVNULL)
        return time.perf_counter() - began

    def time_files(self, prefix: list[str]) -> float:
        sock = self.own / "files.sock"
        sock.unlink(missing_ok=True)
        argv = [*prefix, *FILES, "--root", str(self.workspace), "--socket", str(sock)]
        began = time.perf_counter()
        proc = subprocess.Popen(
            argv, env=self.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.procs.append(proc)
        try:
            deadline = began + 60
            while not _healthy(sock):
                if proc.poll() is not None or time.perf_counter() > deadline:
                    raise RuntimeError(f"oqto-files did not come up ({proc.returncode})")
                time.sleep(self.poll)
            return time.perf_counter() - began
        finally:
            proc.terminate()
            proc.wait(30)


def _healthy(sock: Path) -> bool:
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(2)
        try:
            s.connect(str(sock))
            s.sendall(b"GET /health HTTP/1.0\r\n\r\n")
            return s.recv(16).startswith(b"HTTP/1.1 200")
        except OSError:
            return False


def _read_response(sock: socket.socket) -> None:
    got = b""
    while not got.endswith(b"ok"):
        chunk = sock.recv(4096)
        if not chunk:
            raise RuntimeError("connection closed mid-response")
        got += chunk


def _connect(where: Path | int) -> socket.socket:
    if isinstance(where, Path):
        s = socket.socket(socket.AF_UNIX)
        s.connect(str(where))
    else:
        s = socket.create_connection(("127.0.0.1", where))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def keepalive(where: Path | int, n: int) -> list[float]:
    samples = []
    with _connect(where) as s:
        for _ in range(n):
            began = time.perf_counter()
            s.sendall(REQUEST)
            _read_response(s)
            samples.append(time.perf_counter() - began)
    return samples


def fresh(where: Path | int, n: int) -> list[float]:
    samples = []
    for _ in range(n):
        began = time.perf_counter()
        with _connect(where) as s:
            s.sendall(REQUEST)
            _read_response(s)
        samples.append(time.perf_counter() - began)
    return samples


def relay_latency(bench: Bench, requests: int, slice_n: int) -> dict[str, dict[str, list[float]]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sock = bench.root / "run" / "s1" / "agent.sock"
    argv = [*INIT, "--agent-socket", str(sock), "--agent-port", str(port)]
    proc = subprocess.Popen(
        [*argv, "--", sys.executable, "-c", SERVER, str(port)], stdout=subprocess.PIPE
    )
    bench.procs.append(proc)
    try:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != b"ready":
            raise RuntimeError("the relay's server did not start")
        results: dict[str, dict[str, list[float]]] = {
            "keepalive": {"relay": [], "direct": []},
            "new_connection": {"relay": [], "direct": []},
        }
        keepalive(sock, 50), keepalive(port, 50)  # warm-up, untimed
        for case, fn, total in (
            ("keepalive", keepalive, requests),
            ("new_connection", fresh, max(requests // 5, slice_n)),
        ):
            while len(results[case]["direct"]) < total:
                results[case]["relay"] += fn(sock, slice_n)
                results[case]["direct"] += fn(port, slice_n)
        return results
    finally:
        proc.terminate()
        proc.wait(30)
        assert proc.stdout is not None
        proc.stdout.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="start-ups per variant")
    parser.add_argument("--requests", type=int, default=3000, help="keep-alive requests per path")
    parser.add_argument("--slice", type=int, default=200, help="requests per alternating slice")
    parser.add_argument("--poll", type=float, default=0.005, help="oqto-files readiness poll (s)")
    parser.add_argument("--bwrap", default="bwrap")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    bwrap = shutil.which(args.bwrap)
    if bwrap is None:
        print(f"{args.bwrap} not found", file=sys.stderr)
        return 2
    info = machine_info()
    root = Path(tempfile.mkdtemp(prefix="oqto-sbench-", dir="/tmp"))
    bench = Bench(root, bwrap, args.poll)
    try:
        agent_box, files_box = bench.sandbox(ServiceName.AGENT), bench.sandbox(ServiceName.FILES)
        variants: dict[str, Any] = {
            "true bare": lambda: bench.time_exit(["true"]),
            "true bwrap": lambda: bench.time_exit([*agent_box, "true"]),
            "true bwrap+init": lambda: bench.time_exit([*agent_box, *INIT, "--", "true"]),
            "oqto-files bare": lambda: bench.time_files([]),
            "oqto-files bwrap+init": lambda: bench.time_files([*files_box, *INIT, "--"]),
        }
        starts: dict[str, list[float]] = {name: [] for name in variants}
        names = list(variants)
        for run in range(args.runs):
            for name in names[run % len(names) :] + names[: run % len(names)]:
                starts[name].append(variants[name]())
        latency = relay_latency(bench, args.requests, args.slice)
    finally:
        for proc in bench.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        leftovers = {p.pid: " ".join(map(str, p.args)) for p in bench.procs if p.returncode is None}  # type: ignore[arg-type]
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)

    start_summary = {name: summarize(samples) for name, samples in starts.items()}
    p50 = {name: s["p50_ms"] for name, s in start_summary.items()}
    start_rows = [
        [name, s["n"], s["p50_ms"], s["p90_ms"], s["max_ms"]] for name, s in start_summary.items()
    ]
    overhead_rows = [
        [label, round(p50[a] - p50[b], 2), ratio(p50[a], p50[b])]
        for label, a, b in (
            ("bwrap over bare (`true`)", "true bwrap", "true bare"),
            ("init over bwrap (`true`)", "true bwrap+init", "true bwrap"),
            ("oqto-files sandboxed over bare", "oqto-files bwrap+init", "oqto-files bare"),
        )
    ]
    lat_summary = {
        case: {path: summarize(v) for path, v in paths.items()} for case, paths in latency.items()
    }
    lat_rows = []
    for case, paths in lat_summary.items():
        r, d = paths["relay"], paths["direct"]
        lat_rows.append(
            [case, r["n"], r["p50_ms"], r["p99_ms"], d["p50_ms"], d["p99_ms"]]
            + [ratio(r[q], d[q]) for q in ("p50_ms", "p99_ms")]
        )
    version = subprocess.run([bwrap, "--version"], capture_output=True, text=True).stdout.strip()
    lat_head = ["case", "n", "relay p50", "relay p99", "direct p50", "direct p99", "p50 ratio"]
    markdown = "\n\n".join(
        [
            f"# Sandbox benchmark\n\n{info['cpus']} CPUs, load {info['loadavg_at_start']}, "
            f"commit {info['git_commit']}, {version}, policy `{bench.policy.profile}` "
            f"({len(agent_box)} bwrap arguments)",
            "## Start-up (ms)\n\n" + md_table(["variant", "n", "p50", "p90", "max"], start_rows),
            "## Sandbox overhead (p50)\n\n" + md_table(["", "+ms", "ratio"], overhead_rows),
            "## Request latency (ms): init relay (Unix -> loopback TCP) vs loopback TCP\n\n"
            + md_table([*lat_head, "p99 ratio"], lat_rows),
        ]
    )
    data = {
        "machine": info,
        "argv": {"agent": agent_box, "files": files_box},
        "start_summary": start_summary,
        "latency_summary": lat_summary,
        "raw": {"starts": starts, "latency": latency},
    }
    return publish("sandbox_bench", data, markdown, leftovers)


if __name__ == "__main__":
    sys.exit(main())
