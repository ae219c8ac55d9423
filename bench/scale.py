"""How many sessions one host carries (issue 13): sessions started one after another on
one `oqto serve --single-user` (built-in sandbox profile, the fake model) until the target
count, or until the host's `MemAvailable` falls below a floor; each one is used as a
person would before the next starts.

Per session, in order:

- start: `POST /api/sessions`, then `GET` until `running` (all services answer);
- idle memory: the PSS of the server's whole process tree (opencode, oqto-files, ttyd,
  bubblewrap, the in-sandbox inits; the server itself counted apart) just before the start
  and once it runs, before anything is asked of it: what one more idle session costs;
- use: a prompt answered by the fake model through the proxy, a file written and listed
  through `/files`, a shell command echoed through the terminal WebSocket.

Then every session is asked once more, ten at a time, so the report says whether all of
them still answer with the whole lot running; then all are stopped. PSS (not RSS) because
opencode's and Python's shared pages would otherwise be counted once per process.

`--agent per-user` (the default) shares one opencode per user (`[sessions] agent`);
`per-session` is the old cost, one opencode each: expect it to stop at the memory floor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
from common import (
    SANDBOX_FILES,
    BenchEnv,
    OqtoServer,
    bench_env,
    machine_info,
    md_table,
    percentile,
    publish,
)
from session_start import first_turn
from websockets.asyncio.client import connect
from ws_bench import output_frame, start_shell

from oqto.config.model import SessionsSection

CHECK_CONCURRENCY = 10


# -- memory ------------------------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: the fields start after the last ')'.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree[ppid].append(int(entry.name))
    return tree


def _pss_kib(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:  # gone meanwhile
        return 0
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


def tree_pss(root: int) -> dict[str, Any]:
    """PSS in MiB of everything below `root` (by command name) and of `root` itself."""
    tree = _children()
    by_name: dict[str, int] = defaultdict(int)
    stack = list(tree.get(root, []))
    while stack:
        pid = stack.pop()
        stack.extend(tree.get(pid, []))
        by_name[_comm(pid)] += _pss_kib(pid)
    services = sum(by_name.values())
    return {
        "server_mib": round(_pss_kib(root) / 1024, 1),
        "services_mib": round(services / 1024, 1),
        "by_name_mib": {k: round(v / 1024, 1) for k, v in sorted(by_name.items())},
    }


def mem_available_mib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) // 1024
    raise RuntimeError("no MemAvailable in /proc/meminfo")


# -- one session -------------------------------------------------------------------------


async def start(client: httpx.AsyncClient, bench: BenchEnv, workspace: str) -> tuple[str, float]:
    began = time.perf_counter()
    response = await client.post("/api/sessions", json={"workspace": workspace})
    response.raise_for_status()
    session_id: str = response.json()["id"]
    bench.session_ids.add(session_id)
    while True:
        body = (await client.get(f"/api/sessions/{session_id}")).json()
        if body["status"] == "running":
            return session_id, time.perf_counter() - began
        if body["status"] == "failed":
            raise RuntimeError(f"session {session_id} failed: {body.get('error')}")
        if time.perf_counter() - began > 300:
            raise RuntimeError(f"session {session_id} not running after 300 s: {body}")
        await asyncio.sleep(0.02)


async def use_files(client: httpx.AsyncClient, session_id: str) -> float:
    began = time.perf_counter()
    name = f"scale-{uuid.uuid4().hex[:8]}.txt"
    prefix = f"/api/sessions/{session_id}/files"
    written = await client.put(f"{prefix}/file", params={"path": name}, content=b"scale\n")
    written.raise_for_status()
    tree = await client.get(f"{prefix}/tree", params={"path": ""})
    tree.raise_for_status()
    if name not in tree.text:
        raise RuntimeError(f"{name} not in the tree of session {session_id}")
    return time.perf_counter() - began


async def use_terminal(server: OqtoServer, token: str, session_id: str) -> float:
    began = time.perf_counter()
    url = server.url.replace("http", "ws", 1) + f"/api/sessions/{session_id}/terminal"
    marker = uuid.uuid4().hex[:12]
    async with connect(
        url,
        subprotocols=["tty"],  # type: ignore[list-item]
        additional_headers={"Authorization": f"Bearer {token}"},
        max_size=None,
    ) as ws:
        await start_shell(ws)
        await ws.send(f"0echo {marker[:6]}''{marker[6:]}\r".encode())
        seen = b""
        async with asyncio.timeout(60):
            while marker.encode() not in seen:
                seen = (seen + await output_frame(ws, 60))[-4096:]
    return time.perf_counter() - began


async def use(
    server: OqtoServer, token: str, client: httpx.AsyncClient, bench: BenchEnv, session_id: str
) -> dict[str, Any]:
    """Each of the session's services, once; a failure is recorded, not raised."""
    out: dict[str, Any] = {}
    checks = {
        "prompt": lambda: first_turn(
            client, f"/api/sessions/{session_id}/agent", bench.model_ref()
        ),
        "files": lambda: use_files(client, session_id),
        "terminal": lambda: use_terminal(server, token, session_id),
    }
    for name, check in checks.items():
        try:
            out[f"{name}_s"] = round(await check(), 4)
        except Exception as exc:  # the report says which service of which session broke
            out.setdefault("errors", {})[name] = f"{type(exc).__name__}: {exc}"[:300]
    return out


# -- the run -----------------------------------------------------------------------------


def server_env(args: argparse.Namespace) -> dict[str, str]:
    env = {"OQTO_SESSIONS__MAX_RUNNING_PER_USER": str(args.sessions)}
    fields = SessionsSection.model_fields
    if "agent" in fields:
        env["OQTO_SESSIONS__AGENT"] = args.agent
    elif args.agent != "per-session":
        raise SystemExit("this Oqto has no [sessions] agent: run with --agent per-session")
    if "idle_timeout_seconds" in fields:  # the run must not cull what it measures
        env["OQTO_SESSIONS__IDLE_TIMEOUT_SECONDS"] = "0"
    return env


async def run(args: argparse.Namespace, bench: BenchEnv) -> dict[str, Any]:
    server = await asyncio.to_thread(
        bench.server, "server-scale", sandbox=SANDBOX_FILES["development"], env=server_env(args)
    )
    assert server.proc is not None
    root = server.proc.pid
    token = await asyncio.to_thread(server.login)
    rows: list[dict[str, Any]] = []
    ended = f"reached the target of {args.sessions}"
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=120
    ) as client:
        for i in range(args.sessions):
            available = mem_available_mib()
            if available < args.min_available_mib:
                ended = f"MemAvailable {available} MiB < floor {args.min_available_mib} MiB"
                break
            before = tree_pss(root)
            try:
                session_id, start_s = await start(client, bench, f"scale-{i:03d}")
            except Exception as exc:
                ended = f"session {i + 1} did not start: {exc}"[:500]
                break
            idle = tree_pss(root)
            row = {
                "n": i + 1,
                "id": session_id,
                "start_s": round(start_s, 4),
                "mem_available_mib": available,
                "added_idle_mib": round(idle["services_mib"] - before["services_mib"], 1),
                "services_mib": idle["services_mib"],
                "server_mib": idle["server_mib"],
            }
            row |= await use(server, token, client, bench, session_id)
            rows.append(row)
            print(
                f"  {row['n']:3d}: start {row['start_s']:.3f} s, +{row['added_idle_mib']} MiB"
                f" idle, services {row['services_mib']} MiB, {row.get('errors') or 'all answer'}",
                flush=True,
            )
        final = tree_pss(root)
        again = await ask_all_again(server, token, client, bench, [r["id"] for r in rows])
        for row in rows:
            await client.post(f"/api/sessions/{row['id']}/stop")
    return {"agent": args.agent, "ended": ended, "rows": rows, "final": final, "again": again}


async def ask_all_again(
    server: OqtoServer,
    token: str,
    client: httpx.AsyncClient,
    bench: BenchEnv,
    session_ids: list[str],
) -> dict[str, Any]:
    """With every session running: does each still answer on every service?"""
    gate = asyncio.Semaphore(CHECK_CONCURRENCY)

    async def one(session_id: str) -> dict[str, Any]:
        async with gate:
            return await use(server, token, client, bench, session_id)

    began = time.perf_counter()
    results = await asyncio.gather(*(one(s) for s in session_ids))
    failed = {s: r["errors"] for s, r in zip(session_ids, results, strict=True) if "errors" in r}
    return {
        "sessions": len(session_ids),
        "all_answered": not failed,
        "failed": failed,
        "seconds": round(time.perf_counter() - began, 1),
    }


def analyse(raw: dict[str, Any]) -> dict[str, Any]:
    rows = raw["rows"]
    later = rows[1:]  # the first pays for the shared agent, if there is one
    starts = [r["start_s"] for r in later]
    added = [r["added_idle_mib"] for r in later]
    return {
        "sessions_running": len(rows),
        "first_start_s": rows[0]["start_s"] if rows else None,
        "later_start_p50_s": round(percentile(starts, 50), 3) if starts else None,
        "later_start_p90_s": round(percentile(starts, 90), 3) if starts else None,
        "added_idle_p50_mib": round(percentile(added, 50), 1) if added else None,
        "added_idle_max_mib": max(added) if added else None,
        "sessions_with_errors": sum(1 for r in rows if "errors" in r),
    }


def markdown(raw: dict[str, Any], result: dict[str, Any], info: dict[str, Any]) -> str:
    final = raw["final"]
    again = raw["again"]
    lines = [
        f'# scale: sessions on one host (`[sessions] agent = "{raw["agent"]}"`)',
        "",
        f"{info['cpus']} CPUs, load {info['loadavg_at_start']} at the start."
        f" Ended: {raw['ended']}.",
        "",
        md_table(
            ["figure", "value"],
            [
                ["sessions running at the end", result["sessions_running"]],
                ["first session: start (API -> running)", f"{result['first_start_s']} s"],
                [
                    "later sessions: start p50 / p90",
                    f"{result['later_start_p50_s']} / {result['later_start_p90_s']} s",
                ],
                [
                    "one more idle session: PSS added p50 / max",
                    f"{result['added_idle_p50_mib']} / {result['added_idle_max_mib']} MiB",
                ],
                ["sessions with a failed check when started", result["sessions_with_errors"]],
                [
                    "all running: every session answered again",
                    f"{again['all_answered']} ({again['sessions']} in {again['seconds']} s,"
                    f" {CHECK_CONCURRENCY} at a time)",
                ],
                ["services PSS at the end", f"{final['services_mib']} MiB"],
                ["control plane PSS at the end", f"{final['server_mib']} MiB"],
            ],
        ),
        "",
        "Services' PSS at the end, by process name (MiB):",
        "",
        md_table(["process", "MiB"], list(final["by_name_mib"].items())),
    ]
    if again["failed"]:
        lines += [
            "",
            "Failed on the second round:",
            "",
            "```",
            json.dumps(again["failed"])[:3000],
            "```",
        ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=100, help="target count (100)")
    parser.add_argument(
        "--agent", choices=["per-user", "per-session"], default="per-user", help="(per-user)"
    )
    parser.add_argument(
        "--min-available-mib",
        type=int,
        default=3072,
        help="stop starting sessions below this much MemAvailable (3072)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    info = machine_info()
    print(f"machine: {info['cpus']} CPUs, load {info['loadavg_at_start']}")
    with bench_env("bench-scale", keep=args.keep) as bench:
        raw = asyncio.run(run(args, bench))
    result = analyse(raw)
    report = {
        "benchmark": "scale",
        "machine": info,
        "settings": vars(args),
        **result,
        "raw": raw,
        "leftover_processes": bench.leftovers,
    }
    return publish("scale", report, markdown(raw, result, info), bench.leftovers)


if __name__ == "__main__":
    sys.exit(main())
