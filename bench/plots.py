"""The suite report's PNG plots (matplotlib, the `bench` dependency group): latency
distributions and throughput vs concurrency, Oqto vs direct vs CHP."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

# One colour per way to the service, the same in every plot.
COLOURS = {
    "direct": "tab:green",
    "chp": "tab:orange",
    "oqto": "tab:blue",
    "oqto_relay": "tab:purple",
}
LABELS = {
    "direct": "direct (opencode)",
    "chp": "CHP",
    "oqto": "Oqto",
    "oqto_relay": "Oqto, default profile (relay)",
}


def _plain(value: float, _position: object = None) -> str:
    """Log-axis tick labels as plain numbers (0.5, 20, 1,500), not powers of ten."""
    return f"{value:,.0f}" if value >= 10 else f"{value:g}"


def _plain_log(ax: Axes, axis: str) -> None:
    """Plain major labels; the 2s, 3s and 5s of each decade too when the axis spans two
    decades or less (more would overlap)."""
    target = ax.xaxis if axis == "x" else ax.yaxis

    def minor(value: float, _position: object = None) -> str:
        lo, hi = target.get_view_interval()
        if lo <= 0 or math.log10(hi / lo) > 2:
            return ""
        return _plain(value) if f"{value:g}".lstrip("0.")[:1] in ("2", "3", "5") else ""

    target.set_major_formatter(FuncFormatter(_plain))
    target.set_minor_formatter(FuncFormatter(minor))


def _cdf(pairs: list[tuple[int, int]] | list[list[int]]) -> tuple[list[float], list[float]]:
    """wrk's (microseconds, count) pairs -> (ms, fraction at or below)."""
    total = sum(count for _, count in pairs)
    xs, ys, seen = [], [], 0
    for value, count in sorted(pairs):
        seen += count
        xs.append(value / 1000)
        ys.append(seen / total)
    return xs, ys


def _cdf_axes(ax: Axes, title: str) -> None:
    ax.set_xscale("log")
    _plain_log(ax, "x")
    ax.set_xlabel("latency, ms (log)")
    ax.set_ylabel("fraction of requests at or below")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="best", fontsize="small")


def _save(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def agent_latency(figure: dict[str, Any], path: Path) -> Path:
    """Latency distribution (CDF, log time axis) at the lowest and highest concurrency."""
    points = sorted(figure["histograms"], key=int)
    fig, axes = plt.subplots(1, len(points), figsize=(6 * len(points), 4.2), squeeze=False)
    for ax, c in zip(axes[0], points, strict=True):
        for name, pairs in figure["histograms"][c].items():
            if pairs:
                xs, ys = _cdf(pairs)
                ax.step(xs, ys, where="post", color=COLOURS.get(name), label=LABELS.get(name, name))
        _cdf_axes(ax, f"GET /global/health, {c} connection{'s' if int(c) > 1 else ''} (wrk)")
    return _save(fig, path)


def throughput(figure: dict[str, Any], path: Path) -> Path:
    """Requests per second vs concurrency for each way to opencode."""
    by_c = {int(key[1:]): point for key, point in figure["stats"].items()}
    levels = sorted(by_c)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for name in by_c[levels[0]]:
        values = [by_c[c][name]["req_per_s"] or 0 for c in levels]
        ax.plot(levels, values, marker="o", color=COLOURS.get(name), label=LABELS.get(name, name))
    ax.set_xscale("log")
    ax.set_yscale("log")
    _plain_log(ax, "y")
    ax.set_xticks(levels, [str(c) for c in levels])
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, p: ""))
    ax.set_xlabel("concurrent connections (wrk -c)")
    ax.set_ylabel("requests per second (log)")
    ax.set_title("GET /global/health: throughput vs concurrency")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    return _save(fig, path)


def files_latency(figure: dict[str, Any], path: Path) -> Path:
    """Latency distribution of the files cases, oqto-files' socket vs through Oqto."""
    cases = [case for case in ("tree_1000", "read_1k") if case in figure]
    fig, axes = plt.subplots(1, len(cases), figsize=(6 * len(cases), 4.2), squeeze=False)
    titles = {"tree_1000": "tree of a 1,000-entry directory", "read_1k": "1 KB file read"}
    for ax, case in zip(axes[0], cases, strict=True):
        for name, stats in figure[case].items():
            samples = sorted(stats.get("samples_ms", []))
            if samples:
                ys = [(i + 1) / len(samples) for i in range(len(samples))]
                label = "direct (oqto-files socket)" if name == "direct" else LABELS[name]
                ax.step(samples, ys, where="post", color=COLOURS.get(name), label=label)
        _cdf_axes(ax, f"files: {titles[case]} (c=1)")
    return _save(fig, path)
