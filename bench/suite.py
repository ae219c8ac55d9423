"""The benchmark suite (issue 11): every figure in one run, one report. `bench/run`
installs what it compares against (wrk, configurable-http-proxy, matplotlib) and runs
this; `--short` is the form CI runs (about a second per measurement, no timing assertions
anywhere: the report says whether a target was met, nothing fails on it).

Figures: agent, floor, files, start, concurrent_starts, runner_ping (bench/dataplane.py)
and, when bench/streams.py is present, its figures (sse, transfers, rss, terminal). Each
compares its variants interleaved within the run; the ratios are the result.

Writes `<out>/<stamp>.json` (every figure with its raw data), `<stamp>.md` (tables, the
issue's targets) and `<stamp>-*.png` (latency distributions, throughput vs concurrency).
Exit 1 if a figure failed or a process was left behind; a figure that cannot run here
(no root for runner_ping, no wrk) is listed as skipped with the reason.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import traceback
from dataclasses import asdict
from pathlib import Path
from typing import Any

import chp
import plots
import uvloop
import wrk
from common import REPO, REPORTS, BenchEnv, bench_env, fmt_ms, machine_info, md_table
from dataplane import FIGURES, Rig, Settings

# The stream figures are bench/streams.py's. Without it, or if it cannot be imported,
# the other figures still run; the report says why the stream figures are missing (as
# skipped when the file is absent, as an error when its import failed).
STREAMS_MISSING: tuple[str, str] | None = None
try:
    import streams
except ImportError as exc:
    streams = None
    if isinstance(exc, ModuleNotFoundError) and exc.name == "streams":
        STREAMS_MISSING = ("skipped", "bench/streams.py is not present")
    else:
        STREAMS_MISSING = ("errors", f"import streams failed: {type(exc).__name__}: {exc}")

STREAM_FIGURES: list[str] = list(streams.FIGURES) if streams is not None else []
NEEDS_WRK = {"agent", "floor"}

# The targets: (figure, what, dotted path into the figure's dict, comparison, bound).
TARGETS: list[tuple[str, str, str, str, float]] = [
    ("agent", "c=50 throughput Oqto / direct", "ratios.c50_throughput_oqto_over_direct", ">=", 0.6),
    ("agent", "c=50 throughput Oqto / CHP", "ratios.c50_throughput_oqto_over_chp", ">=", 1.0),
    (
        "agent",
        "c=1 added p50 over direct, ms",
        "ratios.c1_added_p50_ms_oqto_over_direct",
        "<=",
        0.3,
    ),
    ("agent", "c=50 p99 Oqto / CHP", "ratios.c50_p99_oqto_over_chp", "<=", 2.0),
    ("files", "tree (1,000 entries) added p50, ms", "ratios.tree_1000_added_p50_ms", "<=", 0.5),
    ("files", "1 KB read added p50, ms", "ratios.read_1k_added_p50_ms", "<=", 0.5),
    ("files", "oqto-files tree (1,000) p50, ms", "ratios.tree_1000_direct_p50_ms", "<=", 2.0),
    ("transfers", "download throughput Oqto / direct", "download.throughput_ratio", ">=", 0.8),
    ("transfers", "upload throughput Oqto / direct", "upload.throughput_ratio", ">=", 0.8),
    # The title's "at CHP speed or better", for the transfers CHP can carry.
    ("transfers", "download throughput Oqto / CHP", "download.oqto_over_chp", ">=", 1.0),
    ("transfers", "upload throughput Oqto / CHP", "upload.oqto_over_chp", ">=", 1.0),
    ("terminal", "keystroke echo added p50, ms", "ratios.current.echo_p50_added_ms", "<=", 0.2),
    ("terminal", "10 MB output Oqto / direct", "ratios.current.output_throughput", ">=", 0.8),
    ("sse", "first event added p50, ms", "first_event_ratio.added_p50_ms", "<=", 1.0),
    # The same event timed on both streams: the paired difference is what the proxy adds;
    # the gap between the two p50s mixes in opencode's own 20-250 ms spread per event.
    ("sse", "per event added p50 (paired), ms", "per_event_added.p50_ms", "<=", 1.0),
    ("rss", "control plane RSS idle, MiB", "idle_with_sessions_mib", "<=", 100),
    ("rss", "RSS, 500 SSE + 100 terminals open, MiB", "loaded_mib", "<=", 150),
]


def _dig(data: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def target_rows(figures: dict[str, Any], short: bool) -> list[dict[str, Any]]:
    rows = []
    for figure, what, path, op, bound in TARGETS:
        value = _dig(figures.get(figure), path)
        met = None
        if isinstance(value, int | float) and not short:
            met = value >= bound if op == ">=" else value <= bound
        rows.append({"figure": figure, "what": what, "value": value, "target": f"{op} {bound:g}"})
        rows[-1]["met"] = met
    return rows


# -- running ---------------------------------------------------------------------------------


def _tool_versions() -> dict[str, str | None]:
    binary = wrk.wrk_binary()
    wrk_version = None
    if binary is not None:
        out = subprocess.run([binary, "-v"], capture_output=True, text=True, timeout=10)
        wrk_version = (out.stdout or out.stderr).split("[")[0].strip() or None
    return {"wrk": wrk_version, "configurable-http-proxy": chp.installed_version()}


def _changed_sources() -> list[str]:
    """Files under src/ that differ from the commit: what was measured is not the commit
    alone then (a shared checkout while someone works on the data plane)."""
    out = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "--", "src"],
        capture_output=True,
        text=True,
        timeout=10,
    )
    return [line[3:] for line in out.stdout.splitlines()]


def _skip_reason(name: str, tools: dict[str, str | None]) -> str | None:
    if name in NEEDS_WRK and tools["wrk"] is None:
        return "wrk is not installed (bench/run installs it: apt-get install wrk)"
    return None


async def _timed(name: str, run: Any, out: dict[str, Any], errors: dict[str, str]) -> None:
    before = [round(x, 2) for x in os.getloadavg()]
    began = time.perf_counter()
    print(f"-- {name} (load {before})", flush=True)
    try:
        result = await run
    except Exception as exc:
        traceback.print_exc()
        errors[name] = f"{type(exc).__name__}: {exc}"
        return
    result["seconds"] = round(time.perf_counter() - began, 1)
    result["loadavg"] = {"before": before, "after": [round(x, 2) for x in os.getloadavg()]}
    out[name] = result
    print(f"   {name}: {result['seconds']} s", flush=True)


async def run(
    bench: BenchEnv, names: list[str], settings: Settings, tools: dict[str, str | None]
) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    figures: dict[str, Any] = {}
    errors: dict[str, str] = {}
    skipped: dict[str, str] = {}
    ours = [n for n in names if n in FIGURES]
    for name in ours:
        if (reason := _skip_reason(name, tools)) is not None:
            skipped[name] = reason
    rig = Rig(bench)
    rig.prepare([n for n in ours if n not in skipped])
    try:
        for name in ours:
            if name not in skipped:
                await _timed(name, FIGURES[name](rig, settings), figures, errors)
    finally:
        await rig.close()  # its servers would only add noise to the stream figures
    for name in list(figures):
        if "skipped" in figures[name]:
            skipped[name] = figures.pop(name)["skipped"]

    theirs = [n for n in names if n in STREAM_FIGURES]
    if theirs and streams is not None:
        try:
            ctx = await streams.prepare(bench, short=settings.short)
        except Exception as exc:
            traceback.print_exc()
            errors.update({n: f"streams.prepare: {type(exc).__name__}: {exc}" for n in theirs})
        else:
            for name in theirs:
                await _timed(name, streams.FIGURES[name](ctx), figures, errors)
    return figures, errors, skipped


# -- the report ------------------------------------------------------------------------------


def _ms(value: Any, digits: int = 2) -> str:
    return fmt_ms(value, digits) if isinstance(value, int | float) else "-"


def _num(value: Any) -> str:
    """Counts and rates whole, ratios and milliseconds to three significant digits."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _load(figure: dict[str, Any]) -> str:
    load = figure.get("loadavg", {})
    return f"load average {load.get('before')} -> {load.get('after')}; {figure.get('seconds')} s"


VARIANTS = ("direct", "chp", "oqto", "oqto_relay")
VARIANT_LABELS = {
    "direct": "direct",
    "chp": "CHP",
    "oqto": "Oqto",
    "oqto_relay": "Oqto (relay)",
    "health": "/api/health",
    "auth_me": "/api/auth/me",
    "session_get": "/api/sessions/{id}",
    "agent_proxied": "proxied agent health",
}


def headline(agent: dict[str, Any]) -> str:
    """The issue's table: direct vs CHP vs Oqto at c=1 and c=50."""
    stats = agent["stats"]
    levels = sorted(int(k[1:]) for k in stats)
    lo, hi = stats[f"c{levels[0]}"], stats[f"c{levels[-1]}"]
    names = [v for v in VARIANTS if v in lo]

    def cell(point: dict[str, Any], name: str, *keys: str) -> str:
        values = [point[name][k] for k in keys]
        if keys == ("req_per_s",):
            return _num(values[0])
        return " / ".join(_ms(v) for v in values) + " ms"

    return md_table(
        ["", *(VARIANT_LABELS[n] for n in names)],
        [
            [f"c={levels[0]}: p50", *(cell(lo, n, "p50_ms") for n in names)],
            [f"c={levels[0]}: req/s", *(cell(lo, n, "req_per_s") for n in names)],
            [f"c={levels[-1]}: req/s", *(cell(hi, n, "req_per_s") for n in names)],
            [f"c={levels[-1]}: p50 / p99", *(cell(hi, n, "p50_ms", "p99_ms") for n in names)],
        ],
    )


def _load_table(stats: dict[str, Any]) -> str:
    rows = []
    for c, point in sorted(stats.items(), key=lambda kv: int(kv[0][1:])):
        for name, s in point.items():
            rows.append(
                [
                    c[1:],
                    VARIANT_LABELS.get(name, name),
                    _num(s["req_per_s"]),
                    _ms(s["p50_ms"]),
                    _ms(s["p90_ms"]),
                    _ms(s["p99_ms"]),
                    _ms(s["max_ms"]),
                    _num(s["requests"]),
                    ", ".join(f"{k} {v}" for k, v in s["errors"].items()) or "-",
                ]
            )
    return md_table(
        ["c", "way", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "requests", "errors"], rows
    )


def _ratio_table(ratios: dict[str, Any]) -> str:
    return md_table(["ratio", "value"], [[k, _num(v)] for k, v in ratios.items()])


def md_agent(f: dict[str, Any], pngs: dict[str, str]) -> list[str]:
    return [
        "## agent: small GETs (`GET /global/health` of a session's opencode)",
        "",
        f"wrk -t1, {f['wrk']['slices']} slice(s) of {f['wrk']['seconds_per_slice']} s per way "
        f"and concurrency, rotating order; CHP {f['chp_version'] or 'not installed'}; Oqto's "
        f"front door admits {f['front_door_cap_per_client']} connections per client (wrk's all "
        f"come from 127.0.0.1); {_load(f)}.",
        "",
        headline(f),
        "",
        _load_table(f["stats"]),
        "",
        _ratio_table(f["ratios"]),
        "",
        *(f"![{k}]({v})" for k, v in pngs.items() if k in ("agent-latency", "throughput")),
        "",
    ]


def md_floor(f: dict[str, Any], pngs: dict[str, str]) -> list[str]:
    return [
        "## floor: the control plane's own routes under the same load",
        "",
        _load(f) + ".",
        "",
        _load_table(f["stats"]),
        "",
        md_table(
            ["layer (c=1, p50)", "ms"], [[k, _ms(v, 3)] for k, v in f["layers_c1_p50_ms"].items()]
        ),
        "",
    ]


def md_files(f: dict[str, Any], pngs: dict[str, str]) -> list[str]:
    rows = [
        [case, way, s["n"], *(_ms(s.get(f"p{q}_ms"), 3) for q in (50, 90, 99)), s["errors"]]
        for case in ("tree_1000", "read_1k")
        for way, s in f[case].items()
    ]
    return [
        "## files: tree of a 1,000-entry directory, 1 KB read (oqto-files' socket vs Oqto)",
        "",
        f"{f['client']}; {_load(f)}.",
        "",
        md_table(["case", "way", "n", "p50 ms", "p90 ms", "p99 ms", "errors"], rows),
        "",
        _ratio_table(f["ratios"]),
        "",
        *(f"![{k}]({v})" for k, v in pngs.items() if k == "files-latency"),
        "",
    ]


def _summary_rows(summary: dict[str, Any], labels: dict[str, str]) -> list[list[Any]]:
    return [
        [label, s.get("n", 0), *(_ms(s.get(f"{q}_ms"), 0) for q in ("p50", "min", "max"))]
        for key, label in labels.items()
        if (s := summary.get(key)) is not None
    ]


def md_start(f: dict[str, Any], pngs: dict[str, str]) -> list[str]:
    labels = {
        "start": "POST /api/sessions -> GET says running",
        "post": "  of which POST /api/sessions",
        "ready_after_agent": "  agent (opencode) ready_after",
        "ready_after_files": "  files (oqto-files) ready_after",
        "ready_after_terminal": "  terminal (ttyd) ready_after",
        "beyond_slowest_service": "  end to end minus the slowest service",
        "first_turn": "first agent turn through the proxy",
        "ready_and_answered": "ready and answered (start + first turn)",
        "stop": "stop until no tagged process",
    }
    return [
        f"## start: a new session, {f['profile']} profile ({f['runs']} runs, "
        f"{f['warmup']} warm-up)",
        "",
        _load(f) + "; `ready_after` = spawn to first good probe, from the server log.",
        "",
        md_table(["what", "n", "p50 ms", "min ms", "max ms"], _summary_rows(f["summary"], labels)),
        "",
        _ratio_table(f["ratios"]),
        "",
    ]


def md_concurrent(f: dict[str, Any], pngs: dict[str, str]) -> list[str]:
    labels = {"per_session_start": "each session: POST -> running"}
    summary = {"per_session_start": f["per_session_start"]}
    for service, s in f["ready_after"].items():
        labels[service] = f"  {service} ready_after"
        summary[service] = s
    return [
        f"## concurrent_starts: {f['sessions']} sessions posted at once ({f['profile']})",
        "",
        f"All running after {f['all_running_s']:.2f} s (polled every {f['poll_s']} s); all "
        f"stopped after {f['stop_all_s']:.2f} s; {_load(f)}.",
        "",
        md_table(["what", "n", "p50 ms", "min ms", "max ms"], _summary_rows(summary, labels)),
        "",
    ]


def md_runner(f: dict[str, Any], pngs: dict[str, str]) -> list[str]:
    rows = [
        [label, s["n"], _ms(s["p50_ms"], 3), _ms(s["p90_ms"], 3), _ms(s["p99_ms"], 3)]
        for label, s in (
            ("runner ping (RunnerClient)", f["ping_runner"]),
            ("bare Unix-socket echo, same bytes", f["echo_unix"]),
        )
    ]
    return [
        "## runner_ping",
        "",
        _load(f) + ".",
        "",
        md_table(["what", "n", "p50 ms", "p90 ms", "p99 ms"], rows),
        "",
        _ratio_table(f["ratios"]),
        "",
    ]


SECTIONS = {
    "agent": md_agent,
    "floor": md_floor,
    "files": md_files,
    "start": md_start,
    "concurrent_starts": md_concurrent,
    "runner_ping": md_runner,
}


def markdown(report: dict[str, Any], pngs: dict[str, str]) -> str:
    figures = report["figures"]
    m = report["machine"]
    lines = [
        f"# Oqto benchmark suite, {report['stamp']} ({report['mode']})",
        "",
        f"{m['cpus']} CPUs, load average {m['loadavg_at_start']} at start and "
        f"{report['loadavg_at_end']} at the end; commit {m['git_commit']}; Python {m['python']}; "
        f"opencode {m['opencode']}; {m['ttyd']}; {report['tools']['wrk']}; "
        f"configurable-http-proxy {report['tools']['configurable-http-proxy']}.",
        "",
    ]
    if report["changed_sources"]:
        changed = report["changed_sources"]
        lines += [
            f"Measured with {len(changed)} file(s) under src/ changed from that commit: "
            + ", ".join(f"`{path}`" for path in changed[:12])
            + (", ..." if len(changed) > 12 else ""),
            "",
        ]
    if report["mode"] == "short":
        lines += ["Short form (CI): too few samples to compare with the targets.", ""]
    lines += [
        "## Targets (issue 11)",
        "",
        md_table(
            ["figure", "what", "measured", "target", "met"],
            [
                [
                    r["figure"],
                    r["what"],
                    _num(r["value"]),
                    r["target"],
                    {True: "yes", False: "**no**", None: "-"}[r["met"]],
                ]
                for r in report["targets"]
            ],
        ),
        "",
    ]
    if "agent" in figures:
        lines += ["## Agent small GETs at a glance", "", headline(figures["agent"]), ""]
    for name, section in SECTIONS.items():
        if name in figures:
            lines += section(figures[name], pngs)
    stream_results = {k: v for k, v in figures.items() if k in STREAM_FIGURES}
    if stream_results and streams is not None:
        # Their headings one level down, under ours.
        text = streams.markdown(stream_results)
        lines += [("#" + line if line.startswith("#") else line) for line in text.splitlines()]
        lines += ["", "(Stream figures: bench/streams.py.)", ""]
    for kind in ("skipped", "errors"):
        if report[kind]:
            lines += [f"## {kind.capitalize()}", ""]
            lines += [f"- {name}: {why}" for name, why in report[kind].items()]
            lines.append("")
    if report["leftover_processes"]:
        lines += ["## Left behind (killed)", "", f"{report['leftover_processes']}", ""]
    return "\n".join(lines)


def write_plots(figures: dict[str, Any], out: Path, stamp: str) -> dict[str, str]:
    made = {}
    for name, figure, plot in (
        ("agent-latency", "agent", plots.agent_latency),
        ("throughput", "agent", plots.throughput),
        ("files-latency", "files", plots.files_latency),
    ):
        if figure in figures:
            made[name] = plot(figures[figure], out / f"{stamp}-{name}.png").name
    return made


def main() -> int:
    names = [*FIGURES, *STREAM_FIGURES]
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--short", action="store_true", help="the CI form: seconds per figure")
    parser.add_argument(
        "--only", action="append", choices=names, metavar="FIGURE", help=f"one of {names}"
    )
    parser.add_argument("--out", type=Path, default=REPORTS, help=f"report directory ({REPORTS})")
    parser.add_argument(
        "--concurrent", type=int, default=None, help="sessions for concurrent_starts (10; 3 short)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    chosen = [n for n in names if not args.only or n in args.only]
    settings = Settings.for_mode(args.short, args.concurrent)
    info = machine_info()
    tools = _tool_versions()
    print(f"machine: {info['cpus']} CPUs, load {info['loadavg_at_start']}; tools {tools}")
    if STREAMS_MISSING is not None:
        print(f"no stream figures: {STREAMS_MISSING[1]}", file=sys.stderr)
    with (
        bench_env("suite", keep=args.keep) as bench,
        asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner,
    ):
        figures, errors, skipped = runner.run(run(bench, chosen, settings, tools))
    if STREAMS_MISSING is not None and not args.only:
        kind, why = STREAMS_MISSING
        (skipped if kind == "skipped" else errors)["streams"] = why
    stamp = time.strftime("%Y-%m-%d-%H%M%S")
    args.out.mkdir(parents=True, exist_ok=True)
    report = {
        "suite": "oqto-bench",
        "stamp": stamp,
        "mode": "short" if args.short else "full",
        "settings": asdict(settings),
        "machine": info,
        "changed_sources": _changed_sources(),
        "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
        "tools": tools,
        "figures": figures,
        "targets": target_rows(figures, args.short),
        "errors": errors,
        "skipped": skipped,
        "leftover_processes": bench.leftovers,
    }
    pngs = write_plots(figures, args.out, stamp)
    report["plots"] = pngs
    json_path = args.out / f"{stamp}.json"
    md_path = args.out / f"{stamp}.md"
    json_path.write_text(json.dumps(report, indent=1, default=str) + "\n")
    md_path.write_text(markdown(report, pngs).rstrip() + "\n")
    print(f"\nreport: {md_path}\n        {json_path}")
    for png in pngs.values():
        print(f"        {args.out / png}")
    if errors:
        print(f"ERROR: figures failed: {sorted(errors)}", file=sys.stderr)
    if bench.leftovers:
        print(f"ERROR: processes were left behind: {bench.leftovers}", file=sys.stderr)
    return 1 if errors or bench.leftovers else 0


if __name__ == "__main__":
    sys.exit(main())
