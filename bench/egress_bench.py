"""What the sandbox's egress allow-list proxy adds to a request, against going direct.

Three processes, as in production (the proxy runs in the user plane's process, the
upstream elsewhere): this script is the client; a child runs the upstreams (a small HTTP
origin with keep-alive, a TCP echo server); another child runs `EgressProxy` on a Unix
socket with both upstreams on its allow-list. The client is plain blocking sockets, the
same code for both variants; direct variants go over loopback TCP straight to the upstream,
proxied ones over the proxy's Unix socket (the in-sandbox relay in front of it is not
included). Variants alternate in short slices (`--slice`) so a busy machine's noise hits
both alike: the ratios and the added milliseconds are the result.

- `http_keepalive`: `GET /small` on one kept-alive connection, direct; proxied, the same in
  absolute form (`GET http://origin/small`) on one kept-alive connection to the proxy.
- `http_new_connection`: a new connection for each GET (proxied: the proxy connects
  upstream for each too).
- `tunnel_round_trip`: 64 bytes to the echo server and back, direct or inside a `CONNECT`
  tunnel.
- `tunnel_setup`: a TCP connect, against connect + `CONNECT` + `200` (which includes the
  proxy's own connect upstream).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from common import REPO, fmt_ms, machine_info, md_table, publish, ratio, summarize

from oqto.sandbox.egress import EgressProxy

SMALL_BODY = b'{"ok": true}'
PAYLOAD = b"x" * 64


# -- the children ----------------------------------------------------------------------


async def _serve_upstreams() -> None:
    async def origin(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        response = (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(SMALL_BODY), SMALL_BODY)
        )
        try:
            while await reader.readuntil(b"\r\n\r\n"):  # GETs only: a head, no body
                writer.write(response)
                await writer.drain()
        except (asyncio.IncompleteReadError, OSError):
            writer.close()

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        writer.close()

    http = await asyncio.start_server(origin, "127.0.0.1", 0)
    tcp = await asyncio.start_server(echo, "127.0.0.1", 0)
    ports = [s.sockets[0].getsockname()[1] for s in (http, tcp)]
    print(*ports, flush=True)
    await _until_stdin_closes()


async def _serve_proxy(path: Path, allow_hosts: list[str]) -> None:
    async with EgressProxy(path, allow_hosts, session_id="egress-bench"):
        print("ready", flush=True)
        await _until_stdin_closes()


async def _until_stdin_closes() -> None:
    """The parent holds our stdin: its end (even by a crash) is ours."""
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.buffer.read)


def _child(*args: str) -> tuple[subprocess.Popen[bytes], str]:
    proc = subprocess.Popen(
        [sys.executable, __file__, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().decode().strip()
    if not line:
        raise RuntimeError(f"child {args[0]} did not start (exit {proc.wait()})")
    return proc, line


def _stop(proc: subprocess.Popen[bytes]) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# -- the client ------------------------------------------------------------------------


def _tcp(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _unix(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(str(path))
    return sock


def _read_response(stream: BinaryIO) -> int:
    status = int(stream.readline().split()[1])
    length = 0
    while (line := stream.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    body = stream.read(length)
    if status != 200 or body != SMALL_BODY:
        raise RuntimeError(f"unexpected answer {status} {body[:80]!r}")
    return status


class Client:
    """One connection, direct or through the proxy, kept open across requests."""

    def __init__(self, sock: socket.socket, request: bytes) -> None:
        self.sock = sock
        self.stream = sock.makefile("rb")
        self.request = request

    def get(self) -> None:
        self.sock.sendall(self.request)
        _read_response(self.stream)

    def round_trip(self) -> None:
        self.sock.sendall(PAYLOAD)
        got = b""
        while len(got) < len(PAYLOAD):
            chunk = self.sock.recv(len(PAYLOAD) - len(got))
            if not chunk:
                raise RuntimeError("the tunnel closed")
            got += chunk

    def close(self) -> None:
        self.stream.close()
        self.sock.close()


def _connect_tunnel(path: Path, echo_port: int) -> socket.socket:
    sock = _unix(path)
    authority = f"127.0.0.1:{echo_port}".encode()
    sock.sendall(b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (authority, authority))
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        byte = sock.recv(1)  # byte by byte: nothing of the tunnel may be read here
        if not byte:
            raise RuntimeError(f"CONNECT answered {head!r}")
        head += byte
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"CONNECT answered {head!r}")
    return sock


def _timed(op: Callable[[], object], until: float, samples: list[float]) -> None:
    while time.perf_counter() < until:
        began = time.perf_counter()
        op()
        samples.append(time.perf_counter() - began)


def run(
    args: argparse.Namespace, sock_path: Path, http_port: int, echo_port: int
) -> dict[str, Any]:
    origin = f"127.0.0.1:{http_port}".encode()
    direct_get = b"GET /small HTTP/1.1\r\nHost: %s\r\n\r\n" % origin
    proxied_get = b"GET http://%s/small HTTP/1.1\r\nHost: %s\r\n\r\n" % (origin, origin)

    def new_connection(connect: Callable[[], socket.socket], request: bytes) -> Callable[[], None]:
        def op() -> None:
            client = Client(connect(), request)
            client.get()
            client.close()

        return op

    def tunnel_setup(connect: Callable[[], socket.socket]) -> Callable[[], None]:
        return lambda: connect().close()

    kept = {
        "http_keepalive": (
            Client(_tcp(http_port), direct_get),
            Client(_unix(sock_path), proxied_get),
        ),
        "tunnel_round_trip": (
            Client(_tcp(echo_port), b""),
            Client(_connect_tunnel(sock_path, echo_port), b""),
        ),
    }
    cases: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
        "http_keepalive": (kept["http_keepalive"][0].get, kept["http_keepalive"][1].get),
        "http_new_connection": (
            new_connection(lambda: _tcp(http_port), direct_get),
            new_connection(lambda: _unix(sock_path), proxied_get),
        ),
        "tunnel_round_trip": (
            kept["tunnel_round_trip"][0].round_trip,
            kept["tunnel_round_trip"][1].round_trip,
        ),
        "tunnel_setup": (
            tunnel_setup(lambda: _tcp(echo_port)),
            tunnel_setup(lambda: _connect_tunnel(sock_path, echo_port)),
        ),
    }
    samples: dict[str, dict[str, list[float]]] = {}
    try:
        for case, variants in cases.items():
            print(f"  {case} ...", flush=True)
            per = samples[case] = {"direct": [], "proxied": []}
            for op in variants:  # warm-up, untimed
                for _ in range(50):
                    op()
            spent = 0.0
            turn = 0
            while spent < args.duration:
                # Alternate which variant goes first, so neither always follows the other.
                order = [("direct", variants[0]), ("proxied", variants[1])][:: 1 - 2 * (turn % 2)]
                for name, op in order:
                    _timed(op, time.perf_counter() + args.slice, per[name])
                spent += args.slice
                turn += 1
    finally:
        for pair in kept.values():
            for client in pair:
                client.close()
    return {
        case: {
            name: {"summary": summarize(values), "samples_s": values}
            for name, values in per.items()
        }
        for case, per in samples.items()
    }


def markdown(args: argparse.Namespace, info: dict[str, Any], out: dict[str, Any]) -> str:
    rows = []
    for case, per in out.items():
        direct, proxied = per["direct"]["summary"], per["proxied"]["summary"]
        rows.append(
            [
                case,
                direct["n"],
                proxied["n"],
                fmt_ms(direct["p50_ms"], 3),
                fmt_ms(proxied["p50_ms"], 3),
                fmt_ms(proxied["p50_ms"] - direct["p50_ms"], 3),
                fmt_ms(direct["p99_ms"], 3),
                fmt_ms(proxied["p99_ms"], 3),
                fmt_ms(proxied["p99_ms"] - direct["p99_ms"], 3),
                ratio(proxied["p50_ms"], direct["p50_ms"]),
            ]
        )
    headers = [
        "case", "n direct", "n proxied", "p50 direct ms", "p50 proxied ms", "added p50 ms",
        "p99 direct ms", "p99 proxied ms", "added p99 ms", "p50 ratio",
    ]  # fmt: skip
    return "\n\n".join(
        [
            "# Egress proxy: added latency",
            f"{info['cpus']} CPUs, load average at start {info['loadavg_at_start']}, "
            f"Python {info['python']}, commit {info['git_commit']}; "
            f"{args.duration:g} s per variant in {args.slice:g} s slices, concurrency 1.",
            md_table(headers, rows),
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per variant (4)")
    parser.add_argument("--slice", type=float, default=0.25, help="interleaving slice, s (0.25)")
    parser.add_argument("--serve-upstreams", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve-proxy", nargs="+", metavar="ARG", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_upstreams:
        asyncio.run(_serve_upstreams())
        return 0
    if args.serve_proxy:
        asyncio.run(_serve_proxy(Path(args.serve_proxy[0]), args.serve_proxy[1:]))
        return 0

    info = machine_info()
    print(f"machine: {info['cpus']} CPUs, load {info['loadavg_at_start']}")
    with tempfile.TemporaryDirectory(prefix="oqto-bench-egress-", dir="/tmp") as tmp:
        sock_path = Path(tmp) / "egress.sock"
        upstreams, ports = _child("--serve-upstreams")
        try:
            http_port, echo_port = map(int, ports.split())
            hosts = [f"127.0.0.1:{http_port}", f"127.0.0.1:{echo_port}"]
            proxy, _ = _child("--serve-proxy", str(sock_path), *hosts)
            try:
                out = run(args, sock_path, http_port, echo_port)
            finally:
                _stop(proxy)
        finally:
            _stop(upstreams)
    report = {
        "benchmark": "egress_bench",
        "machine": info,
        "machine_loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
        "settings": vars(args),
        "results": out,
    }
    return publish("egress_bench", report, markdown(args, info, out), leftovers=None)


if __name__ == "__main__":
    sys.exit(main())
