"""Session cold start, broken into parts, sandboxed and not.

Per run, in rotating order (so machine noise hits every variant alike):

- api:    `POST /api/sessions` on a real `oqto serve --single-user` under the built-in
          sandbox profile (development: bubblewrap, own network and PID namespaces, the
          egress proxy), then `GET` every `--poll` seconds until `running` (all three
          services answer their probes); then `POST .../stop` and wait until no process
          carries the session tag. The server log's `session running ... ready_after=`
          gives the per-service breakdown (spawn -> first good probe).
- api_off: the same on a second server whose admin sandbox file says `enabled = false`
          (`--sandbox` picks one of the two or both, the default).
- inproc: (`--inproc`) the first server's user plane (`LocalUserPlane`, built from the
          same config file by the same factory as `oqto serve`) driven in this process:
          `start_session` / `stop_session`, `SessionRuntime.ready_after`.
- direct: `opencode serve` alone, with the argv, environment and probe the user plane
          would build (`oqto.userplane.services.build_services`, `readiness.wait_until_ready`:
          0.5 s per-attempt timeouts with retry), i.e. the floor set by opencode itself.

`api`, `api_off` and `direct` also time the first agent turn (a new opencode session and
one prompt answered by the fake model), through the proxy and directly; "ready and
answered" is start plus first turn, what a person waits for before the first reply.

Every variant uses the same private copy of the tests' warmed opencode HOME. `--cold`
adds runs with a fresh, empty HOME for the API path and for opencode alone (opencode then
downloads ~95 MB of npm packages; with 1.18.33 not before it answers its health probe
but in the background on first use, which the first agent turn would show; needs network,
off by default).
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import json
import re
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from common import (
    SANDBOX_FILES,
    BenchEnv,
    OqtoServer,
    bench_env,
    build_userplane,
    fmt_ms,
    machine_info,
    md_table,
    patched_environ,
    percentile,
    publish,
    ratio,
    summarize,
    tagged_exact,
)

from oqto.config import load_config
from oqto.osutil.sockowner import loopback_listen_ports
from oqto.protocol.sessions import SessionSpec
from oqto.sandbox.policy import SandboxPolicy
from oqto.userplane.confinement import SessionSandbox
from oqto.userplane.local import LocalUserPlane
from oqto.userplane.process import ManagedProcess
from oqto.userplane.readiness import wait_until_ready
from oqto.userplane.services import SessionLayout, build_services

# Measured on this kind of box by hand (reference values, not measured by this script).
JUPYTERHUB_SPAWN_S = 0.164  # median, trivial single-user server
PEER_BASELINES = {
    "jupyterhub_spawn_trivial_singleuser_median_s": JUPYTERHUB_SPAWN_S,
    "opencode_alone_cold_s": [1.45, 1.8],
}
# The API variant of each admin sandbox file compared.
API_VARIANTS = {"development": "api", "off": "api_off"}
API_LABELS = {"api": "API, sandboxed (development)", "api_off": "API, enabled = false"}
OWNER = "admin"  # OqtoServer's first administrator; fills `{user}` in the workspace root
SERVICES = ("agent", "files", "terminal")

_RUNNING_LINE = re.compile(
    r'msg="session running".*?\bsession=(\S+).*?\bready_after=("(?:[^"\\]|\\.)*"|\S+)'
)


def ready_after_from_log(log: str) -> dict[str, dict[str, float]]:
    """`session running` log lines -> {session id: {service: seconds}}."""
    found: dict[str, dict[str, float]] = {}
    for match in _RUNNING_LINE.finditer(log):
        raw = match.group(2)
        text = json.loads(raw) if raw.startswith('"') else raw
        found[match.group(1)] = {k: float(v) for k, v in ast.literal_eval(text).items()}
    return found


async def wait_no_processes(session_id: str, timeout: float = 30.0) -> float:
    began = time.perf_counter()
    while tagged_exact(session_id):
        if time.perf_counter() - began > timeout:
            raise RuntimeError(f"session {session_id} processes still alive after {timeout} s")
        await asyncio.sleep(0.01)
    return time.perf_counter() - began


async def first_turn(client: httpx.AsyncClient, prefix: str, model: dict[str, str]) -> float:
    """A new opencode session and one prompt answered by the fake model: the first thing a
    person does with a session, and where a cold opencode HOME pays for its downloads."""
    began = time.perf_counter()
    created = await client.post(f"{prefix}/session", json={})
    created.raise_for_status()
    prompt = f"bench ping {uuid.uuid4().hex[:8]}"
    reply = await client.post(
        f"{prefix}/session/{created.json()['id']}/message",
        json={"parts": [{"type": "text", "text": prompt}], "model": model},
        timeout=600,
    )
    reply.raise_for_status()
    if prompt not in json.dumps(reply.json()):
        raise RuntimeError(f"unexpected agent reply: {reply.text[:500]}")
    return time.perf_counter() - began


# -- the three variants ------------------------------------------------------------------


async def api_run(
    bench: BenchEnv,
    server: OqtoServer,
    client: httpx.AsyncClient,
    workspace: str,
    poll: float,
    expect_sandbox: str | None = "development",
) -> dict[str, Any]:
    """`expect_sandbox`: the profile the session must report, None for unsandboxed."""
    polls: list[float] = []
    began = time.perf_counter()
    response = await client.post("/api/sessions", json={"workspace": workspace})
    post_s = time.perf_counter() - began
    response.raise_for_status()
    session_id = response.json()["id"]
    bench.session_ids.add(session_id)
    while True:
        asked = time.perf_counter()
        body = (await client.get(f"/api/sessions/{session_id}")).json()
        polls.append(time.perf_counter() - asked)
        if body["status"] == "running":
            break
        if body["status"] == "failed":
            raise RuntimeError(f"session failed: {body['error']}")
        await asyncio.sleep(poll)
    start_s = time.perf_counter() - began
    turn_s = await first_turn(client, f"/api/sessions/{session_id}/agent", bench.model_ref())
    sandbox = body.get("sandbox") or {}
    if sandbox.get("enabled") != (expect_sandbox is not None):
        raise RuntimeError(f"session {session_id} is confined as {sandbox}")

    began = time.perf_counter()
    response = await client.post(f"/api/sessions/{session_id}/stop")
    stop_api_s = time.perf_counter() - began
    response.raise_for_status()
    stop_status = response.json()["status"]
    await wait_no_processes(session_id)
    stop_s = time.perf_counter() - began
    await client.delete(f"/api/sessions/{session_id}")
    ready = ready_after_from_log(server.log()).get(session_id, {})
    return {
        "session_id": session_id,
        "start_s": start_s,
        "post_s": post_s,
        "polls": len(polls),
        "poll_get_mean_s": sum(polls) / len(polls),
        "ready_after": ready,
        "first_turn_s": turn_s,
        "ready_and_answered_s": start_s + turn_s,
        "sandbox": sandbox,
        "stop_api_s": stop_api_s,
        "stop_status": stop_status,
        "stop_s": stop_s,
    }


async def inproc_run(
    bench: BenchEnv, server: OqtoServer, plane: LocalUserPlane, workspace: str
) -> dict[str, Any]:
    spec = SessionSpec(id=f"benchinproc{uuid.uuid4().hex[:16]}", owner=OWNER, workspace=workspace)
    bench.session_ids.add(spec.id)
    with patched_environ(server.env):
        began = time.perf_counter()
        runtime = await plane.start_session(spec)
        start_s = time.perf_counter() - began
        began = time.perf_counter()
        await plane.stop_session(spec.id)
        stop_api_s = time.perf_counter() - began
        await wait_no_processes(spec.id)
        stop_s = time.perf_counter() - began
    return {
        "session_id": spec.id,
        "start_s": start_s,
        "ready_after": dict(runtime.ready_after),
        "stop_api_s": stop_api_s,
        "stop_s": stop_s,
    }


async def listening_port(process: ManagedProcess) -> int:
    """opencode picks its own port (`--port 0`), as in the user plane: wait for it."""
    while True:
        ports = loopback_listen_ports(process.pid) if process.pid else []
        if ports:
            return ports[0]
        await asyncio.sleep(0.01)


async def direct_run(
    bench: BenchEnv, server: OqtoServer, plane: LocalUserPlane, workspace: str, env: dict[str, str]
) -> dict[str, Any]:
    """opencode alone: the user plane's own argv/env/probe for the agent service."""
    settings = plane._settings  # the very settings the server built from its config
    session_id = f"benchdirect{uuid.uuid4().hex[:16]}"
    bench.session_ids.add(session_id)
    workspace_path = server.root / "direct-ws" / workspace
    workspace_path.mkdir(parents=True, exist_ok=True)
    runtime_dir = server.root / "direct-run" / session_id[-8:]
    runtime_dir.mkdir(parents=True, mode=0o700)
    layout = SessionLayout(
        session_id=session_id,
        workspace=workspace_path,
        runtime_dir=runtime_dir,
        log_dir=server.root / "direct-logs" / session_id,
    )
    layout.make_dirs()
    # The baseline is opencode bare: the sandbox's cost shows in the other two columns.
    bare = SessionSandbox(
        policy=SandboxPolicy(enabled=False, profile="none"),
        settings=settings.sandbox,
        home=Path.home(),
        workspace=workspace_path,
        workspace_root=workspace_path.parent,
        session_id=session_id,
        limits_unenforced=None,
    )
    with patched_environ(env):
        services, endpoints = build_services(settings.services, layout, "bench", bare)
    agent = services[0]
    assert agent.spec.name == "agent"
    process = ManagedProcess(agent.spec)
    began = time.perf_counter()
    await process.start()
    exited = asyncio.ensure_future(process.wait())
    try:
        async with asyncio.timeout(settings.start_timeout):
            port = await listening_port(process)
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}",
                auth=(endpoints.agent.username, endpoints.agent.password),
            ) as client:
                await wait_until_ready(client, agent.probe_path, exited)
                start_s = time.perf_counter() - began
                turn_s = await first_turn(client, "", bench.model_ref())
    finally:
        exited.cancel()
        stop_began = time.perf_counter()
        await process.stop(settings.stop_grace)
        stop_api_s = time.perf_counter() - stop_began
    await wait_no_processes(session_id)
    return {
        "session_id": session_id,
        "start_s": start_s,
        "first_turn_s": turn_s,
        "stop_api_s": stop_api_s,
        "stop_s": time.perf_counter() - stop_began,
    }


# -- driver ------------------------------------------------------------------------------


async def run(args: argparse.Namespace, bench: BenchEnv) -> dict[str, Any]:
    profiles = ["development", "off"] if args.sandbox == "both" else [args.sandbox]
    began = time.perf_counter()
    servers = {p: bench.server(f"server-{p}", sandbox=SANDBOX_FILES[p]) for p in profiles}
    server_start_s = (time.perf_counter() - began) / len(servers)
    server = servers[profiles[0]]  # the in-process and opencode-alone variants use its config
    loaded = load_config(server.config_path, environ=server.env)
    with patched_environ(server.env):
        plane = build_userplane(loaded.config)
    order = [API_VARIANTS[p] for p in profiles] + (["inproc"] if args.inproc else []) + ["direct"]
    results: dict[str, list[dict[str, Any]]] = {v: [] for v in order}
    warmup: dict[str, list[dict[str, Any]]] = {v: [] for v in order}
    clients = {
        API_VARIANTS[p]: httpx.AsyncClient(
            base_url=srv.url, headers={"Authorization": f"Bearer {srv.login()}"}, timeout=300
        )
        for p, srv in servers.items()
    }
    try:
        total = args.warmup + args.runs
        for i in range(total):
            is_warmup = i < args.warmup
            label = "warmup" if is_warmup else f"run {i - args.warmup + 1}/{args.runs}"
            shift = i % len(order)
            for variant in order[shift:] + order[:shift]:
                workspace = f"bench-{variant}-{i}"
                if variant in clients:
                    profile = next(p for p, v in API_VARIANTS.items() if v == variant)
                    result = await api_run(
                        bench,
                        servers[profile],
                        clients[variant],
                        workspace,
                        args.poll,
                        None if profile == "off" else profile,
                    )
                elif variant == "inproc":
                    result = await inproc_run(bench, server, plane, workspace)
                else:
                    result = await direct_run(bench, server, plane, workspace, server.env)
                (warmup if is_warmup else results)[variant].append(result)
                print(
                    f"  {label:>10} {variant:>7}: start {result['start_s'] * 1000:7.0f} ms"
                    f"  stop {result['stop_s'] * 1000:6.0f} ms"
                    + (
                        f"  first turn {result['first_turn_s'] * 1000:6.0f} ms"
                        if "first_turn_s" in result
                        else ""
                    )
                    + (f"  ready_after {result['ready_after']}" if "ready_after" in result else "")
                )
    finally:
        for client in clients.values():
            await client.aclose()
        with patched_environ(server.env):
            await plane.close()

    cold: list[dict[str, Any]] = []
    for i in range(args.cold_runs if args.cold else 0):
        home = bench.fresh_home(f"cold-home-api-{i}")
        cold_server = bench.server(
            f"server-cold-{i}", home=home, sandbox=SANDBOX_FILES[profiles[0]]
        )
        async with httpx.AsyncClient(
            base_url=cold_server.url,
            headers={"Authorization": f"Bearer {cold_server.login()}"},
            timeout=300,
        ) as client:
            api = await api_run(
                bench,
                cold_server,
                client,
                f"bench-cold-{i}",
                args.poll,
                None if profiles[0] == "off" else profiles[0],
            )
        bench.stop_server(cold_server)
        direct_env = dict(server.env, HOME=str(bench.fresh_home(f"cold-home-direct-{i}")))
        direct = await direct_run(bench, server, plane, f"bench-cold-{i}", direct_env)
        cold.append({"api": api, "direct": direct})
        print(
            f"  cold {i + 1}: api start {api['start_s']:.2f} s (ready_after {api['ready_after']}),"
            f" first turn {api['first_turn_s']:.2f} s; opencode alone start"
            f" {direct['start_s']:.2f} s, first turn {direct['first_turn_s']:.2f} s"
        )

    return {
        "server_start_s": round(server_start_s, 3),
        "runs": results,
        "warmup": warmup,
        "cold": cold,
    }


def med(values: list[float]) -> float:
    return percentile(values, 50)


def analyse(args: argparse.Namespace, raw: dict[str, Any]) -> dict[str, Any]:
    runs = raw["runs"]
    apis = [v for v in API_LABELS if v in runs]
    direct = runs["direct"]
    summary: dict[str, Any] = {}
    for variant in apis:
        rows = runs[variant]
        for key in ("start", "post", "first_turn", "ready_and_answered", "stop_api", "stop"):
            summary[f"{variant}_{key}"] = summarize([r[f"{key}_s"] for r in rows])
        summary[f"{variant}_poll_get"] = summarize([r["poll_get_mean_s"] for r in rows])
        # Per run: how much of the end-to-end time is not the slowest service's readiness.
        summary[f"{variant}_overhead_beyond_slowest_service"] = summarize(
            [r["start_s"] - max(r["ready_after"].values()) for r in rows if r["ready_after"]]
        )
    for variant in (*apis, "inproc"):
        for service in SERVICES:
            values = [r["ready_after"][service] for r in runs.get(variant, [])]
            summary[f"{variant}_ready_after_{service}"] = summarize(values)
    for key in ("start", "stop"):
        summary[f"inproc_{key}"] = summarize([r[f"{key}_s"] for r in runs.get("inproc", [])])
    for key in ("start", "first_turn", "stop"):
        summary[f"direct_{key}"] = summarize([r[f"{key}_s"] for r in direct])

    def p50(key: str) -> float | None:
        value: float | None = summary.get(key, {}).get("p50_ms")
        return value

    api = apis[0]  # the first server's variant: the comparisons with the floor use it
    ratios = {
        "api_over_direct_opencode": ratio(p50(f"{api}_start"), p50("direct_start")),
        "first_turn_proxied_over_direct": ratio(p50(f"{api}_first_turn"), p50("direct_first_turn")),
        "api_over_inproc": ratio(p50(f"{api}_start"), p50("inproc_start")),
        "inproc_over_direct_opencode": ratio(p50("inproc_start"), p50("direct_start")),
        "api_agent_ready_after_over_direct_opencode": ratio(
            p50(f"{api}_ready_after_agent"), p50("direct_start")
        ),
        "api_over_jupyterhub_spawn": ratio(p50(f"{api}_start"), JUPYTERHUB_SPAWN_S * 1000),
    }
    sandbox_ratios = {}
    if {"api", "api_off"} <= set(apis):
        keys = [
            "start",
            "first_turn",
            "ready_and_answered",
            *(f"ready_after_{service}" for service in SERVICES),
            "stop",
        ]
        sandbox_ratios = {k: ratio(p50(f"api_{k}"), p50(f"api_off_{k}")) for k in keys}
        # Run i of both variants fell in the same round: their ratio shares its load.
        pairs = list(zip(runs["api"], runs["api_off"], strict=True))
        sandbox_ratios |= {
            f"paired_{k}": round(med([a[f"{k}_s"] / b[f"{k}_s"] for a, b in pairs]), 2)
            for k in ("start", "first_turn", "ready_and_answered", "stop")
        }
        sandbox_ratios |= {
            f"added_{k}_ms": round(a - b, 1)
            for k in keys
            if (a := p50(f"api_{k}")) is not None and (b := p50(f"api_off_{k}")) is not None
        }
    return {
        "resolution_s": {
            "poll_interval": args.poll,
            "poll_get_p50": round(med([r["poll_get_mean_s"] for r in runs[api]]), 4),
        },
        "summary": summary,
        "ratios": ratios,
        "sandboxed_over_unsandboxed": sandbox_ratios,
    }


def markdown(args: argparse.Namespace, raw: dict[str, Any], result: dict[str, Any]) -> str:
    s = result["summary"]

    def row(name: str, key: str) -> list[str]:
        v = s.get(key, {})
        if not v.get("n"):
            return [name, "0", "-", "-", "-", "-"]
        return [
            name,
            str(v["n"]),
            fmt_ms(v["p50_ms"], 0),
            fmt_ms(v["min_ms"], 0),
            fmt_ms(v["max_ms"], 0),
            fmt_ms(v["mean_ms"], 0),
        ]

    rows = []
    apis = [v for v in API_LABELS if f"{v}_start" in s]
    for variant in apis:
        rows += [
            row(
                f"{API_LABELS[variant]}: POST /api/sessions -> GET says running", f"{variant}_start"
            ),
            row("  of which POST /api/sessions (201 starting)", f"{variant}_post"),
            row("  agent (opencode) ready_after, from server log", f"{variant}_ready_after_agent"),
            row("  files (oqto-files) ready_after", f"{variant}_ready_after_files"),
            row("  terminal (ttyd) ready_after", f"{variant}_ready_after_terminal"),
            row("  end to end minus slowest service", f"{variant}_overhead_beyond_slowest_service"),
            row(
                "  first agent turn via the proxy (new session + 1 prompt)", f"{variant}_first_turn"
            ),
            row("  ready and answered (start + first turn)", f"{variant}_ready_and_answered"),
            row("  stop: POST .../stop returns", f"{variant}_stop_api"),
            row("  stop: until no tagged process", f"{variant}_stop"),
        ]
    if s["inproc_start"].get("n"):
        rows += [
            row("in process: LocalUserPlane.start_session", "inproc_start"),
            row("  agent ready_after", "inproc_ready_after_agent"),
            row("  files ready_after", "inproc_ready_after_files"),
            row("  terminal ready_after", "inproc_ready_after_terminal"),
            row("  stop: until no tagged process", "inproc_stop"),
        ]
    rows += [
        row("opencode alone, unsandboxed (same argv/env/probe)", "direct_start"),
        row("  first agent turn", "direct_first_turn"),
        row("  SIGTERM until gone", "direct_stop"),
    ]
    r = result["ratios"]
    lines = [
        f"# Session start ({args.runs} runs, warm opencode HOME)",
        "",
        md_table(["what", "n", "p50 ms", "min ms", "max ms", "mean ms"], rows),
        "",
        f"Resolution: API polled every {args.poll * 1000:.0f} ms "
        f"(+ GET ~{result['resolution_s']['poll_get_p50'] * 1000:.1f} ms); "
        f"`oqto serve` itself started in {raw['server_start_s']:.2f} s.",
        "",
    ]
    sandboxed = result["sandboxed_over_unsandboxed"]
    if sandboxed:
        lines += [
            "## Sandboxed (development) / enabled = false (medians)",
            "",
            md_table(
                ["what", "ratio of medians", "median of per-run ratios", "added ms (medians)"],
                [
                    [
                        k.replace("_", " "),
                        str(v),
                        str(sandboxed.get(f"paired_{k}", "-")),
                        fmt_ms(sandboxed.get(f"added_{k}_ms"), 1),
                    ]
                    for k, v in sandboxed.items()
                    if not k.startswith(("added_", "paired_"))
                ],
            ),
            "",
        ]
    lines += [
        f"## Ratios (medians; API = {API_LABELS[apis[0]]})",
        "",
        "| ratio | value |",
        "|---|---|",
        f"| API / opencode alone (our overhead) | {r['api_over_direct_opencode']} |",
        *(
            [
                f"| API / in-process user plane | {r['api_over_inproc']} |",
                f"| in-process user plane / opencode alone | {r['inproc_over_direct_opencode']} |",
            ]
            if r["api_over_inproc"] is not None
            else []
        ),
        f"| first agent turn via proxy / opencode alone | {r['first_turn_proxied_over_direct']} |",
        f"| agent ready_after (API) / opencode alone | "
        f"{r['api_agent_ready_after_over_direct_opencode']} |",
        f"| API / JupyterHub spawn (164 ms, reference) | {r['api_over_jupyterhub_spawn']} |",
        "",
        "Peer reference (measured here earlier, not by this run): JupyterHub spawn ~164 ms "
        "median with a trivial single-user server; opencode alone answers after ~1.45-1.8 s.",
    ]
    if raw["cold"]:
        warm_start = s[f"{apis[0]}_start"].get("p50_ms", float("nan")) / 1000
        warm_turn = s[f"{apis[0]}_first_turn"].get("p50_ms", float("nan")) / 1000
        lines += [
            "",
            "## Cold opencode HOME (fresh and empty: opencode installs its packages)",
            "",
            f"Warm medians for comparison: API start {warm_start:.2f} s, first turn "
            f"{warm_turn:.2f} s.",
            "",
            md_table(
                [
                    "run",
                    "API start s",
                    "agent ready_after s",
                    "API first turn s",
                    "opencode alone start s",
                    "opencode alone first turn s",
                ],
                [
                    [
                        str(i + 1),
                        f"{c['api']['start_s']:.2f}",
                        f"{c['api']['ready_after'].get('agent', float('nan')):.2f}",
                        f"{c['api']['first_turn_s']:.2f}",
                        f"{c['direct']['start_s']:.2f}",
                        f"{c['direct']['first_turn_s']:.2f}",
                    ]
                    for i, c in enumerate(raw["cold"])
                ],
            ),
        ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=4, help="timed runs per variant (4)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs first (1)")
    parser.add_argument(
        "--poll", type=float, default=0.01, help="API status poll interval, s (0.01)"
    )
    parser.add_argument(
        "--cold",
        action="store_true",
        help="also start with a fresh empty opencode HOME (downloads ~95 MB per start)",
    )
    parser.add_argument("--cold-runs", type=int, default=1, help="cold runs with --cold (1)")
    parser.add_argument(
        "--sandbox",
        choices=["both", "development", "off"],
        default="both",
        help="API variants: the built-in development profile, enabled = false, or both (both)",
    )
    parser.add_argument(
        "--inproc", action="store_true", help="also drive the user plane in this process"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    info = machine_info()
    print(f"machine: {info['cpus']} CPUs, load {info['loadavg_at_start']}, {info['opencode']}")
    with bench_env("bench-start", keep=args.keep) as bench:
        print(f"warm opencode HOME copied in {bench.home_copy_seconds:.2f} s")
        raw = asyncio.run(run(args, bench))
    result = analyse(args, raw)
    report = {
        "benchmark": "session_start",
        "machine": info,
        "settings": vars(args),
        "peer_baselines_reference": PEER_BASELINES,
        **result,
        "raw": raw,
        "leftover_processes": bench.leftovers,
    }
    md = markdown(args, raw, result)
    return publish("session_start", report, md, bench.leftovers)


if __name__ == "__main__":
    sys.exit(main())
