"""wrk as the load generator: one run is one URL at one concurrency for whole seconds; its
Lua `done()` hook writes the counters and wrk's whole latency histogram (microseconds ->
count) as JSON, so runs of the same target in interleaved slices add up exactly."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# `latency(i)` is wrk's i-th distinct recorded value and its count (wrk's SCRIPTING).
LUA = r"""
local authorization = os.getenv("WRK_AUTHORIZATION")
if authorization and authorization ~= "" then
  wrk.headers["Authorization"] = authorization
end

done = function(summary, latency, requests)
  local out = assert(io.open(os.getenv("WRK_OUT"), "w"))
  local e = summary.errors
  out:write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "errors": {"connect": %d, ' ..
    '"read": %d, "write": %d, "status": %d, "timeout": %d}, "latency_us": [',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout))
  for i = 1, #latency do
    local value, count = latency(i)
    out:write(string.format('%s[%d,%d]', i > 1 and "," or "", value, count))
  end
  out:write("]}\n")
  out:close()
end
"""


def wrk_binary() -> str | None:
    return shutil.which("wrk")


@dataclass
class Load:
    """What wrk measured for one target, summed over its runs."""

    requests: int = 0
    duration_s: float = 0.0
    errors: dict[str, int] = field(default_factory=dict)
    histogram: dict[int, int] = field(default_factory=dict)  # latency in us -> count

    def add(self, run: Mapping[str, Any]) -> None:
        self.requests += int(run["requests"])
        self.duration_s += run["duration_us"] / 1e6
        for kind, count in run["errors"].items():
            self.errors[kind] = self.errors.get(kind, 0) + int(count)
        for value, count in run["latency_us"]:
            self.histogram[int(value)] = self.histogram.get(int(value), 0) + int(count)

    def percentile_ms(self, q: float) -> float | None:
        """The smallest recorded latency with at least q % of the samples at or below."""
        total = sum(self.histogram.values())
        if not total:
            return None
        wanted, seen = total * q / 100, 0
        for value in sorted(self.histogram):
            seen += self.histogram[value]
            if seen >= wanted:
                return value / 1000
        return max(self.histogram) / 1000

    def stats(self) -> dict[str, Any]:
        samples = sum(self.histogram.values())
        mean = sum(v * c for v, c in self.histogram.items()) / samples / 1000 if samples else None
        return {
            "requests": self.requests,
            "seconds": round(self.duration_s, 3),
            "req_per_s": round(self.requests / self.duration_s, 1) if self.duration_s else None,
            "p50_ms": self.percentile_ms(50),
            "p90_ms": self.percentile_ms(90),
            "p99_ms": self.percentile_ms(99),
            "max_ms": max(self.histogram) / 1000 if samples else None,
            "mean_ms": round(mean, 3) if mean is not None else None,
            "errors": {k: v for k, v in self.errors.items() if v},
        }


@dataclass(frozen=True)
class Target:
    """One thing wrk loads: a URL and the Authorization header it needs (Basic for
    opencode and for CHP, which passes the client's header on; Bearer for Oqto)."""

    name: str
    url: str
    authorization: str = ""


async def run(
    target: Target,
    connections: int,
    seconds: int,
    workdir: Path,
    env: Mapping[str, str],
    threads: int = 1,
) -> dict[str, Any]:
    """One wrk run; returns what its `done()` hook wrote. wrk is killed if it outlives
    its duration by far (it is started with a run tag in `env` for the final sweep too)."""
    binary = wrk_binary()
    if binary is None:
        raise RuntimeError("wrk is not installed (bench/run installs it)")
    script = workdir / "wrk-report.lua"
    if not script.exists():
        script.write_text(LUA)
    out = workdir / f"wrk-{target.name}-c{connections}.json"
    out.unlink(missing_ok=True)
    proc = await asyncio.create_subprocess_exec(
        binary,
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        target.url,
        env={**env, "WRK_OUT": str(out), "WRK_AUTHORIZATION": target.authorization},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with asyncio.timeout(seconds + 30):
            output, _ = await proc.communicate()
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
    if proc.returncode != 0 or not out.exists():
        tail = output.decode(errors="replace")[-2000:]
        raise RuntimeError(f"wrk {target.url} failed ({proc.returncode}): {tail}")
    result: dict[str, Any] = json.loads(out.read_text())
    return result


async def interleaved(
    targets: Sequence[Target],
    concurrency: Sequence[int],
    seconds: int,
    rounds: int,
    workdir: Path,
    env: Mapping[str, str],
) -> dict[int, dict[str, Load]]:
    """Every target at every concurrency, `rounds` runs of `seconds` each, in an order
    that rotates per round and concurrency so that no target always runs first (right
    after another one's load) or last. A short warm-up per target opens its
    connections and warms its caches first."""
    loads = {c: {t.name: Load() for t in targets} for c in concurrency}
    for target in targets:
        await run(target, max(concurrency), 1, workdir, env)
    step = 0
    for _ in range(rounds):
        for c in concurrency:
            shift = step % len(targets)
            step += 1
            for target in [*targets[shift:], *targets[:shift]]:
                loads[c][target.name].add(await run(target, c, seconds, workdir, env))
    return loads
