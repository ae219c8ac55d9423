"""oqto-files on its own Unix socket: latency, throughput, memory and start-up.

Starts `python -m oqto.files --root ... --socket ...` (the argv the user plane builds,
without the sandbox around it) over a generated workspace and calls it directly, with a
minimal blocking HTTP/1.1 keep-alive client (c=1) so the client's own cost stays small:

- latency: `GET /tree?path=big` (1,000 entries), `GET /tree?path=small` (10 entries),
  `GET /file?path=one-kb.txt` (1 KB read), `GET /health`;
- throughput: a 100 MB `GET /download` and a 100 MB `PUT /file` (MB/s), with the
  server's RSS sampled during each transfer (flat memory: peak minus idle);
- memory and start-up: RSS when idle and after the latency cases, private memory when
  idle (what one more session costs: RSS less the pages shared with every other
  process), seconds and CPU seconds from spawn to the first answered `/health`, and the
  `-X importtime` total of `oqto.files.cli`;
- server CPU per request in each latency case (all its threads, from schedstat).

`--baseline REV` also runs the oqto-files of a git revision (its `src/` extracted with
`git archive` into a temporary directory and put first on PYTHONPATH) side by side:
every case alternates between the variants in short slices, so the noise of a shared
machine hits both alike, and the report gives new / baseline ratios.

`measure()` is the entry point for the benchmark suite; `main()` runs it alone.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import (
    REPO,
    fmt_ms,
    machine_info,
    md_table,
    publish,
    ratio,
    rss_kb,
    stop_process,
    summarize,
)

MB = 1024 * 1024
TREE_BIG = 1000
TREE_SMALL = 10
CHUNK = MB
STARTUP_DEADLINE = 30.0
CASES = {
    "tree_1000": "/tree?path=big",
    "tree_10": "/tree?path=small",
    "read_1k": "/file?path=one-kb.txt",
    "health": "/health",
}


# -- a minimal HTTP/1.1 client on a Unix socket -------------------------------------------


class HTTPError(RuntimeError):
    pass


class RawClient:
    """One keep-alive connection; Content-Length bodies only (all this bench asks for)."""

    def __init__(self, path: Path, timeout: float = 60) -> None:
        self.path = path
        self.timeout = timeout
        self.buf = bytearray()
        self.scratch = bytearray(CHUNK)
        self.sock = self._connect()

    def _connect(self) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(str(self.path))
        return sock

    def reconnect(self) -> None:
        """A new connection: the server closes one that was idle past its keep-alive."""
        self.sock.close()
        self.buf.clear()
        self.sock = self._connect()

    def close(self) -> None:
        self.sock.close()

    def _fill(self) -> None:
        n = self.sock.recv_into(self.scratch)
        if not n:
            raise HTTPError("connection closed")
        self.buf += memoryview(self.scratch)[:n]

    def _head(self) -> tuple[int, dict[str, str]]:
        while (end := self.buf.find(b"\r\n\r\n")) < 0:
            self._fill()
        lines = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
        del self.buf[: end + 4]
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" not in headers and status not in (204, 304):
            raise HTTPError(f"no Content-Length in the answer ({status})")
        return status, headers

    def request(self, method: str, target: str, body: bytes = b"") -> tuple[int, bytes]:
        head = f"{method} {target} HTTP/1.1\r\nHost: files\r\n"
        if body or method in ("PUT", "POST"):
            head += f"Content-Length: {len(body)}\r\n"
        self.sock.sendall(head.encode() + b"\r\n" + body)
        status, headers = self._head()
        length = int(headers.get("content-length", "0"))
        while len(self.buf) < length:
            self._fill()
        data = bytes(self.buf[:length])
        del self.buf[:length]
        return status, data

    def download(self, target: str) -> int:
        """GET a body and drop it as it arrives; returns its size."""
        self.sock.sendall(f"GET {target} HTTP/1.1\r\nHost: files\r\n\r\n".encode())
        status, headers = self._head()
        if status != 200:
            raise HTTPError(f"download answered {status}")
        length = int(headers["content-length"])
        got = len(self.buf)
        self.buf.clear()
        view = memoryview(self.scratch)
        while got < length:
            n = self.sock.recv_into(view, min(len(view), length - got))
            if not n:
                raise HTTPError("connection closed mid-body")
            got += n
        return got

    def upload(self, target: str, size: int) -> int:
        """PUT `size` bytes sent in CHUNK-sized writes; returns the status."""
        chunk = bytes(range(256)) * (CHUNK // 256)
        head = f"PUT {target} HTTP/1.1\r\nHost: files\r\nContent-Length: {size}\r\n\r\n"
        self.sock.sendall(head.encode())
        sent = 0
        while sent < size:
            part = chunk[: min(CHUNK, size - sent)]
            self.sock.sendall(part)
            sent += len(part)
        status, headers = self._head()
        length = int(headers.get("content-length", "0"))
        while len(self.buf) < length:
            self._fill()
        del self.buf[:length]
        return status


# -- the server under test ----------------------------------------------------------------


@dataclass
class Variant:
    name: str
    pythonpath: str | None  # None: this checkout
    root: Path
    sock: Path
    proc: subprocess.Popen[bytes] | None = None
    start_s: list[float] = field(default_factory=list)
    start_cpu_s: list[float] = field(default_factory=list)
    import_ms: list[float] = field(default_factory=list)
    rss_idle_kb: int = 0
    private_idle_kb: int = 0
    latencies: dict[str, list[float]] = field(default_factory=dict)
    # Server CPU spent in each case's timed slices, and the requests they served: less
    # sensitive to a busy machine than wall-clock latency.
    cpu: dict[str, list[int]] = field(default_factory=dict)
    download_s: list[float] = field(default_factory=list)
    upload_s: list[float] = field(default_factory=list)
    transfer_rss_kb: dict[str, int] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OQTO_")}
        if self.pythonpath:
            env["PYTHONPATH"] = self.pythonpath
        else:
            env.pop("PYTHONPATH", None)
        return env

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid


def private_kb(pid: int) -> int:
    """Memory only this process holds (RSS counts the shared libraries and the
    interpreter's pages every session's oqto-files shares): what one more session costs."""
    total = 0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith(("Private_Clean:", "Private_Dirty:")):
            total += int(line.split()[1])
    return total


def cpu_ns(pid: int) -> int:
    """CPU time of all of a process's threads, in ns (schedstat: finer than clock ticks)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            total += int((task / "schedstat").read_text().split()[0])
    return total


def cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(variant: Variant, max_upload_mb: int) -> None:
    argv = [
        sys.executable,
        "-m",
        "oqto.files",
        "--root",
        str(variant.root),
        "--socket",
        str(variant.sock),
        "--max-upload-mb",
        str(max_upload_mb),
        "--log-level",
        "warning",
    ]
    began = time.perf_counter()
    variant.proc = subprocess.Popen(argv, env=variant.env(), cwd=variant.root)
    deadline = began + STARTUP_DEADLINE
    while True:
        if variant.proc.poll() is not None:
            raise RuntimeError(f"{variant.name}: oqto-files exited with {variant.proc.returncode}")
        with contextlib.suppress(OSError, HTTPError):
            client = RawClient(variant.sock, timeout=1)
            try:
                if client.request("GET", "/health")[0] == 200:
                    break
            finally:
                client.close()
        if time.perf_counter() > deadline:
            raise RuntimeError(f"{variant.name}: oqto-files did not answer in time")
        time.sleep(0.002)  # poll interval of the readiness probe, bounded by the deadline
    variant.start_s.append(time.perf_counter() - began)
    variant.start_cpu_s.append(cpu_seconds(variant.pid))
    variant.rss_idle_kb = rss_kb(variant.pid)
    variant.private_idle_kb = private_kb(variant.pid)


def stop(variant: Variant) -> None:
    if variant.proc is not None:
        stop_process(variant.proc)


def import_ms(pythonpath: str | None) -> float:
    """Cumulative `-X importtime` of `oqto.files.cli` in a fresh interpreter, in ms."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import oqto.files.cli"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stderr
    match = re.search(r"\|\s*(\d+) \| oqto\.files\.cli$", out, re.M)
    return int(match.group(1)) / 1000 if match else float("nan")


# -- the workspace ------------------------------------------------------------------------


def make_workspace(root: Path, big_bytes: int) -> None:
    (root / "big").mkdir(parents=True)
    for i in range(TREE_BIG):
        # A realistic mix: mostly files, some directories.
        if i % 10 == 0:
            (root / "big" / f"dir{i:04d}").mkdir()
        else:
            (root / "big" / f"file{i:04d}.txt").write_bytes(b"x" * (i % 200))
    (root / "small").mkdir()
    for i in range(TREE_SMALL):
        (root / "small" / f"f{i}.py").write_text("print()\n")
    (root / "one-kb.txt").write_bytes((b"0123456789abcde\n" * 64)[:1024])
    chunk = bytes(range(256)) * (MB // 256)
    with open(root / "big.bin", "wb") as out:
        for _ in range(big_bytes // MB):
            out.write(chunk)


# -- measuring ----------------------------------------------------------------------------


class RSSSampler:
    """Samples a process's RSS every few ms while a transfer runs."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            with contextlib.suppress(OSError):
                self.peak = max(self.peak, rss_kb(self.pid))

    def __enter__(self) -> RSSSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def rotations(variants: list[Variant], rounds: int) -> Iterator[Variant]:
    for i in range(rounds):
        shift = i % len(variants)
        yield from variants[shift:] + variants[:shift]


def latency_cases(variants: list[Variant], slice_n: int, rounds: int) -> None:
    clients = {v.name: RawClient(v.sock) for v in variants}
    try:
        for name, target in CASES.items():
            for v in variants:  # warm-up: caches, lazily imported code paths
                clients[v.name].reconnect()
                for _ in range(slice_n):
                    clients[v.name].request("GET", target)
            for v in rotations(variants, rounds):
                client, times = clients[v.name], v.latencies.setdefault(name, [])
                # Untimed: the other variants' slices may have outlasted the keep-alive.
                client.reconnect()
                client.request("GET", target)
                cpu_before = cpu_ns(v.pid)
                for _ in range(slice_n):
                    began = time.perf_counter()
                    status, _ = client.request("GET", target)
                    elapsed = time.perf_counter() - began
                    if status != 200:
                        raise HTTPError(f"{v.name} {target} answered {status}")
                    times.append(elapsed)
                spent = v.cpu.setdefault(name, [0, 0])
                spent[0] += cpu_ns(v.pid) - cpu_before
                spent[1] += slice_n
    finally:
        for client in clients.values():
            client.close()


def transfers(variants: list[Variant], size: int, rounds: int) -> None:
    for v in rotations(variants, rounds):
        client = RawClient(v.sock)
        try:
            with RSSSampler(v.pid) as sampler:
                began = time.perf_counter()
                got = client.download("/download?path=big.bin")
                v.download_s.append(time.perf_counter() - began)
            if got != size:
                raise HTTPError(f"{v.name}: downloaded {got} of {size} bytes")
            v.transfer_rss_kb["download"] = max(v.transfer_rss_kb.get("download", 0), sampler.peak)
            with RSSSampler(v.pid) as sampler:
                began = time.perf_counter()
                status = client.upload(f"/file?path=upload-{v.name}.bin", size)
                v.upload_s.append(time.perf_counter() - began)
            if status not in (200, 201):
                raise HTTPError(f"{v.name}: upload answered {status}")
            v.transfer_rss_kb["upload"] = max(v.transfer_rss_kb.get("upload", 0), sampler.peak)
        finally:
            client.close()


def _cpu_us(spent: list[int]) -> float:
    ns, requests = spent
    return round(ns / requests / 1000, 1)


def _mb_per_s(seconds: list[float], size: int) -> dict[str, float]:
    if not seconds:
        return {}
    ordered = sorted(seconds)
    return {
        "n": len(ordered),
        "median_mb_s": round(size / MB / ordered[len(ordered) // 2], 1),
        "best_mb_s": round(size / MB / ordered[0], 1),
    }


def measure(
    baseline: str | None = None,
    *,
    big_mb: int = 100,
    slice_n: int = 200,
    rounds: int = 10,
    transfer_rounds: int = 3,
    start_rounds: int = 3,
) -> dict[str, Any]:
    """Run every case; `baseline` is a git revision to compare against (None: only this
    checkout). Returns {"variants": {name: figures}, "ratios": {...}} (ratios new/baseline:
    below 1 is faster for times, above 1 is faster for MB/s)."""
    tmp = Path(tempfile.mkdtemp(prefix="oqto-filesbench-", dir="/tmp"))
    variants: list[Variant] = []
    try:
        make_workspace(tmp / "ws", big_mb * MB)
        specs: list[tuple[str, str | None]] = [("current", None)]
        if baseline:
            src = tmp / "baseline"
            src.mkdir()
            archive = subprocess.run(
                ["git", "-C", str(REPO), "archive", baseline, "src"],
                capture_output=True,
                check=True,
            ).stdout
            subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
            specs.append(("baseline", str(src / "src")))
        for name, pythonpath in specs:
            variants.append(Variant(name, pythonpath, tmp / "ws", tmp / f"{name}.sock"))
        # Start-up in alternation too; the last start of each is the one measured on.
        # Start-up and imports in alternation too; the last start of each stays up.
        for i, v in enumerate(rotations(variants, start_rounds)):
            start(v, max_upload_mb=big_mb + 10)
            if i < len(variants) * (start_rounds - 1):
                stop(v)
            v.import_ms.append(import_ms(v.pythonpath))
        latency_cases(variants, slice_n, rounds)
        rss_after = {v.name: rss_kb(v.pid) for v in variants}
        transfers(variants, big_mb * MB, transfer_rounds)
        out: dict[str, Any] = {"variants": {}}
        for v in variants:
            out["variants"][v.name] = {
                "pythonpath": v.pythonpath,
                "start_s": round(statistics.median(v.start_s), 3),
                "start_cpu_s": round(statistics.median(v.start_cpu_s), 3),
                "import_ms": round(statistics.median(v.import_ms), 1),
                "rss_idle_mb": round(v.rss_idle_kb / 1024, 1),
                "private_idle_mb": round(v.private_idle_kb / 1024, 1),
                "rss_after_latency_mb": round(rss_after[v.name] / 1024, 1),
                "rss_peak_download_mb": round(v.transfer_rss_kb.get("download", 0) / 1024, 1),
                "rss_peak_upload_mb": round(v.transfer_rss_kb.get("upload", 0) / 1024, 1),
                "latency": {
                    name: {**summarize(times), "server_cpu_us": _cpu_us(v.cpu[name])}
                    for name, times in v.latencies.items()
                },
                "download": _mb_per_s(v.download_s, big_mb * MB),
                "upload": _mb_per_s(v.upload_s, big_mb * MB),
            }
        if baseline:
            out["ratios"] = ratios(out["variants"]["current"], out["variants"]["baseline"])
        return out
    finally:
        for v in variants:
            stop(v)
        shutil.rmtree(tmp, ignore_errors=True)


def ratios(new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for case in CASES:
        for q in ("p50_ms", "p99_ms", "server_cpu_us"):
            out[f"{case}_{q}"] = ratio(new["latency"][case][q], old["latency"][case][q])
    for key in ("download", "upload"):
        out[f"{key}_mb_s"] = ratio(new[key]["median_mb_s"], old[key]["median_mb_s"])
    for key in (
        "start_s",
        "start_cpu_s",
        "import_ms",
        "rss_idle_mb",
        "private_idle_mb",
        "rss_after_latency_mb",
    ):
        out[key] = ratio(new[key], old[key])
    return out


def markdown(result: dict[str, Any], info: dict[str, Any]) -> str:
    names = list(result["variants"])
    figures = [result["variants"][n] for n in names]
    has_ratio = "ratios" in result
    headers = ["", *names] + (["current / baseline"] if has_ratio else [])
    rows: list[list[Any]] = []
    r = result.get("ratios", {})
    for case in CASES:
        for q in ("p50_ms", "p99_ms", "server_cpu_us"):
            label = (
                f"{case} {q.removesuffix('_ms')} (ms)"
                if q != "server_cpu_us"
                else (f"{case} server CPU per request (us)")
            )
            row = [label, *(fmt_ms(f["latency"][case][q], 3) for f in figures)]
            rows.append(row + ([r[f"{case}_{q}"]] if has_ratio else []))
    for key in ("download", "upload"):
        row = [f"{key} 100 MB (MB/s, median)", *(f[key]["median_mb_s"] for f in figures)]
        rows.append(row + ([r[f"{key}_mb_s"]] if has_ratio else []))
    for key, label in (
        ("start_s", "start to first /health (s)"),
        ("start_cpu_s", "CPU to first /health (s)"),
        ("import_ms", "import oqto.files.cli (ms)"),
        ("rss_idle_mb", "RSS idle (MB)"),
        ("private_idle_mb", "private memory idle (MB)"),
        ("rss_after_latency_mb", "RSS after latency cases (MB)"),
        ("rss_peak_download_mb", "RSS peak during download (MB)"),
        ("rss_peak_upload_mb", "RSS peak during upload (MB)"),
    ):
        row = [label, *(f[key] for f in figures)]
        rows.append(row + ([r.get(key, "")] if has_ratio else []))
    return "\n".join(
        [
            "# oqto-files on its socket",
            "",
            f"load average at start {info['loadavg_at_start']}, {info['cpus']} CPUs, "
            f"commit {info['git_commit']}; c=1, keep-alive, raw HTTP/1.1 client",
            "",
            md_table(headers, rows),
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--baseline", metavar="REV", help="also run oqto-files of this revision")
    parser.add_argument("--big-mb", type=int, default=100, help="transfer size (default 100)")
    parser.add_argument("--slice", type=int, default=200, help="requests per slice")
    parser.add_argument("--rounds", type=int, default=10, help="slices per variant and case")
    parser.add_argument("--transfer-rounds", type=int, default=3)
    parser.add_argument("--start-rounds", type=int, default=3, help="starts per variant")
    args = parser.parse_args()
    info = machine_info()
    result = measure(
        args.baseline,
        big_mb=args.big_mb,
        slice_n=args.slice,
        rounds=args.rounds,
        transfer_rounds=args.transfer_rounds,
        start_rounds=args.start_rounds,
    )
    report = {"machine": info, "args": vars(args), **result}
    return publish("files_bench", report, markdown(result, info), leftovers=None)


if __name__ == "__main__":
    sys.exit(main())
