"""Runner benchmark: the cost of going through `oqto-runner` instead of calling the user
plane in process.

Needs root: it creates a throw-away Linux account (`oqtobench_*`), seeds its home with the
tests' warmed opencode HOME, starts its runner as that account and removes everything at
the end. Measured in one run, interleaved:

- call round trip: `ping` through RunnerClient (NDJSON + schema validation + SO_PEERCRED'd
  Unix socket) vs a bare asyncio Unix-socket echo of the same bytes vs an in-process call;
- session start: `session.start` through the runner (services run as the account) vs
  `LocalUserPlane.start_session` in this process (services run as root), then stop;
- new upstream connection: `session.connect` (the runner connects to the service and
  passes the socket, the control plane checks its owner with the kernel) vs the in-process
  user plane's verified connect vs a bare connect to the same socket, for the file
  server (Unix socket) and opencode (under the default sandbox profile the init's Unix
  socket relay into opencode's network namespace; loopback TCP with network `host`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from common import (
    OPENCODE_HOME,
    TOOLS_BIN,
    machine_info,
    md_table,
    ratio,
    summarize,
    write_report,
)
from tests.support.fake_llm import FakeLLM
from tests.support.fake_llm import opencode_config as fake_opencode_config

from oqto.config import load_config
from oqto.osutil.accounts import create_account
from oqto.osutil.runtime_dir import ensure_runtime_dir
from oqto.protocol.runner import Empty, Method
from oqto.protocol.sessions import ServiceName, SessionSpec
from oqto.provisioning.runner import start_direct
from oqto.provisioning.skeleton import copy_skeleton
from oqto.runner.client import RunnerClient, RunnerUserPlane
from oqto.userplane.base import UserPlaneError
from oqto.userplane.factory import local_userplane
from oqto.userplane.local import LocalUserPlane


async def echo_round_trips(n: int, payload: bytes, root: Path) -> list[float]:
    path = root / "echo.sock"

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            writer.write(line)
            await writer.drain()

    server = await asyncio.start_unix_server(echo, str(path))
    reader, writer = await asyncio.open_unix_connection(str(path))
    samples = []
    for _ in range(n):
        began = time.perf_counter()
        writer.write(payload)
        await writer.drain()
        await reader.readline()
        samples.append(time.perf_counter() - began)
    writer.close()
    server.close()
    await server.wait_closed()
    return samples


async def ping_round_trips(client: RunnerClient, n: int) -> list[float]:
    await client.call(Method.PING, Empty())
    samples = []
    for _ in range(n):
        began = time.perf_counter()
        await client.call(Method.PING, Empty())
        samples.append(time.perf_counter() - began)
    return samples


Connect = Callable[[], Awaitable[socket.socket]]


async def _timed_connects(n: int, connect: Connect, errors: list[str]) -> list[float]:
    """Successful connects' times; a refused one is counted in `errors`, not timed."""
    samples = []
    for _ in range(n):
        began = time.perf_counter()
        try:
            sock = await connect()
        except (UserPlaneError, OSError) as exc:
            errors.append(str(exc))
            continue
        samples.append(time.perf_counter() - began)
        sock.close()
    return samples


async def connects(n: int, via_runner: RunnerUserPlane, inproc: LocalUserPlane) -> dict[str, Any]:
    """What a new proxied upstream connection costs in each mode."""
    out: dict[str, Any] = {}
    ids = {}
    for label, plane in (("runner", via_runner), ("inproc", inproc)):
        spec = SessionSpec(id=f"conn{label}", owner="bench", workspace="connects")
        await plane.start_session(spec)
        ids[label] = spec.id
    try:
        # opencode's port on the host, when it has one, is read off its socket on first use.
        (await inproc.connect_service(ids["inproc"], ServiceName.AGENT)).close()
        endpoints = inproc._sessions[ids["inproc"]].endpoints
        agent: str | tuple[str, int] | None = endpoints.agent_socket
        if agent is None:
            assert endpoints.agent_port is not None
            agent = ("127.0.0.1", endpoints.agent_port)
        addresses = {ServiceName.FILES: endpoints.files_socket, ServiceName.AGENT: agent}
        out["agent_path"] = "unix relay" if endpoints.agent_socket else "loopback tcp"
        loop = asyncio.get_running_loop()

        def bare(address: str | tuple[str, int]) -> Connect:
            async def connect() -> socket.socket:
                family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
                sock = socket.socket(family)
                sock.setblocking(False)
                await loop.sock_connect(sock, address)
                return sock

            return connect

        for service in (ServiceName.FILES, ServiceName.AGENT):
            variants: dict[str, Connect] = {
                "runner": functools.partial(via_runner.connect_service, ids["runner"], service),
                "inproc": functools.partial(inproc.connect_service, ids["inproc"], service),
                "bare": bare(addresses[service]),
            }
            samples: dict[str, list[float]] = {k: [] for k in variants}
            errors: dict[str, list[str]] = {k: [] for k in variants}
            for _ in range(max(1, n // 50)):  # interleaved slices: noise hits all alike
                for label, connect in variants.items():
                    samples[label] += await _timed_connects(50, connect, errors[label])
            out[service.value] = {
                k: {
                    **summarize(v),
                    "errors": len(errors[k]),
                    "first_error": next(iter(errors[k]), None),
                }
                for k, v in samples.items()
            }
    finally:
        await via_runner.stop_session(ids["runner"])
        await inproc.stop_session(ids["inproc"])
    return out


def write_config(root: Path, fake_url: str, name: str, local: str) -> Path:
    oc = root / "opencode.json"
    oc.write_text(json.dumps(fake_opencode_config(fake_url)))
    config = root / f"{name}.toml"
    config.write_text(
        f"""
[local]
{local}
[opencode]
binary = "{TOOLS_BIN / "opencode"}"
config_file = "{oc}"
start_timeout_seconds = 240
[ttyd]
binary = "{TOOLS_BIN / "ttyd"}"
[sessions]
stop_grace_seconds = 3
"""
    )
    for path in (root, oc, config):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return config


@contextlib.asynccontextmanager
async def runner_account(root: Path, config: Path) -> AsyncIterator[RunnerClient]:
    """A throw-away `oqtobench_*` account (its home seeded with the tests' warmed opencode
    HOME, so no npm downloads inside a measurement) and its runner started with `config`;
    yields a client to the runner. Afterwards the runner, every process of the account,
    the account and its runtime directory are gone."""
    name = f"oqtobench_{secrets.token_hex(3)}"
    account = create_account(name)
    runner = None
    try:
        copy_skeleton(OPENCODE_HOME, account.home, account.uid, account.gid)
        socket_path = ensure_runtime_dir(account.uid, account.gid) / "oqto-runner.sock"
        runner = await asyncio.to_thread(
            start_direct,
            account,
            config=config,
            service_user="root",
            log_dir=root / "runner-logs",
            socket=socket_path,
            timeout=30,
        )
        client = RunnerClient(socket_path, timeout=30, expected_uid=account.uid)
        try:
            yield client
        finally:
            await client.close()
    finally:
        if runner is not None:
            runner.terminate()
            runner.wait(30)
        subprocess.run(["pkill", "-KILL", "-u", name], check=False)
        deadline = time.monotonic() + 30
        while (
            time.monotonic() < deadline
            and subprocess.run(["pgrep", "-u", name], capture_output=True).returncode == 0
        ):
            await asyncio.sleep(0.1)
        subprocess.run(["userdel", "--remove", name], capture_output=True, check=False)
        shutil.rmtree(f"/run/user/{account.uid}", ignore_errors=True)


PING_LINE = b'{"type":"request","id":1,"method":"ping","params":{}}\n'


async def measure(
    args: argparse.Namespace, root: Path, config: Path, inproc_config: Path
) -> dict[str, Any]:
    async with runner_account(root, config) as client:
        via_runner = RunnerUserPlane(client, 240)

        home = root / "inproc-home"
        shutil.copytree(OPENCODE_HOME, home, symlinks=True)
        os.environ["HOME"] = str(home)
        cfg = load_config(inproc_config).config
        inproc = local_userplane(cfg, runtime_dir=root / "inproc-run", log_dir=root / "inproc-logs")

        results: dict[str, Any] = {
            "ping_runner": summarize(await ping_round_trips(client, args.pings)),
            "echo_unix": summarize(await echo_round_trips(args.pings, PING_LINE, root)),
        }
        inproc_calls = []
        for _ in range(args.pings):
            began = time.perf_counter()
            await inproc.list_sessions()
            inproc_calls.append(time.perf_counter() - began)
        results["inproc_call"] = summarize(inproc_calls)

        starts: dict[str, list[float]] = {"runner": [], "inproc": []}
        stops: dict[str, list[float]] = {"runner": [], "inproc": []}
        for run in range(args.runs):
            order = [("runner", via_runner), ("inproc", inproc)]
            if run % 2:
                order.reverse()
            for label, plane in order:
                spec = SessionSpec(id=f"b{run}{label[:3]}", owner="bench", workspace=f"w{run}")
                began = time.perf_counter()
                await plane.start_session(spec)
                starts[label].append(time.perf_counter() - began)
                began = time.perf_counter()
                await plane.stop_session(spec.id)
                stops[label].append(time.perf_counter() - began)
        results["start"] = {k: summarize(v) for k, v in starts.items()}
        results["stop"] = {k: summarize(v) for k, v in stops.items()}
        results["connect"] = await connects(args.connects, via_runner, inproc)
        await inproc.close()
        return results


def _service_label(results: dict[str, Any], service: str) -> str:
    return f"agent ({results['connect']['agent_path']})" if service == "agent" else service


def report(results: dict[str, Any]) -> str:
    rows: list[list[Any]] = []
    for key, label in (
        ("ping_runner", "runner ping (RunnerClient)"),
        ("echo_unix", "bare Unix-socket echo, same bytes"),
        ("inproc_call", "in-process user-plane call"),
    ):
        s = results[key]
        rows.append([label, s["n"], s["p50_ms"], s["p90_ms"], s["p99_ms"]])
    for phase in ("start", "stop"):
        for variant in ("runner", "inproc"):
            s = results[phase][variant]
            rows.append(
                [f"session {phase} via {variant}", s["n"], s["p50_ms"], s["p90_ms"], s["p99_ms"]]
            )
    for service in ("files", "agent"):
        for variant in ("runner", "inproc", "bare"):
            s = results["connect"][service][variant]
            rows.append(
                [
                    f"new {_service_label(results, service)} connection: {variant}"
                    + (f" ({s['errors']} refused: {s['first_error']})" if s["errors"] else ""),
                    s["n"],
                    s.get("p50_ms"),
                    s.get("p90_ms"),
                    s.get("p99_ms"),
                ]
            )
    ratios = [
        [
            f"new {service} connection via runner / bare connect (p50)",
            ratio(
                results["connect"][service]["runner"]["p50_ms"],
                results["connect"][service]["bare"]["p50_ms"],
            ),
        ]
        for service in ("files", "agent")
    ] + [
        [
            "runner ping / bare echo (p50)",
            ratio(results["ping_runner"]["p50_ms"], results["echo_unix"]["p50_ms"]),
        ],
        [
            "session start runner / in-process (p50)",
            ratio(results["start"]["runner"]["p50_ms"], results["start"]["inproc"]["p50_ms"]),
        ],
        [
            "session stop runner / in-process (p50)",
            ratio(results["stop"]["runner"]["p50_ms"], results["stop"]["inproc"]["p50_ms"]),
        ],
    ]
    return (
        "# Runner benchmark\n\n"
        + md_table(["what", "n", "p50 ms", "p90 ms", "p99 ms"], rows)
        + "\n\n"
        + md_table(["ratio", "value"], ratios)
        + "\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pings", type=int, default=2000, help="round trips per variant")
    parser.add_argument("--runs", type=int, default=3, help="session starts per variant")
    parser.add_argument("--connects", type=int, default=500, help="new connections per variant")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("runner_bench.py creates a Linux account and needs root", file=sys.stderr)
        return 2
    root = Path(tempfile.mkdtemp(prefix="oqto-runner-bench-"))
    root.chmod(0o755)
    saved_home = os.environ.get("HOME", "/root")
    try:
        with FakeLLM() as llm:
            config = write_config(root, llm.base_url, "runner", "")
            inproc_config = write_config(
                root,
                llm.base_url,
                "inproc",
                f'socket_dir = "{root / "inproc-run"}"\n'
                f'workspace_root = "{root / "inproc-ws"}/{{user}}"',
            )
            results = asyncio.run(measure(args, root, config, inproc_config))
    finally:
        os.environ["HOME"] = saved_home
        shutil.rmtree(root, ignore_errors=True)
    markdown = report(results)
    print(markdown)
    _, md_path = write_report(
        "runner", {"machine": machine_info(), "args": vars(args), "results": results}, markdown
    )
    print(f"report: {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
