"""Printing for oqtoctl: Rich for people, `--json` for scripts, errors to stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from oqto.cliutil import err as err
from oqto.cliutil import fail as cli_fail
from oqto.provisioning.steps import StepEvent

out = Console(highlight=False, soft_wrap=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """oqtoctl's failures exit 1 (2 is Click's usage error)."""
    return cli_fail(message, code)


def note(message: str) -> None:
    err.print(escape(message))


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str, sort_keys=True) + "\n")


def table(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    title: str | None = None,
    fold: bool = False,
) -> None:
    """`fold`: a cell too wide is broken across lines, never cut short (paths)."""
    t = Table(title=title, show_lines=False, header_style="bold")
    for column in columns:
        t.add_column(column, overflow="fold" if fold else "ellipsis")
    for row in rows:
        t.add_row(*("" if v is None else escape(str(v)) for v in row))
    out.print(t)


def fields(pairs: Sequence[tuple[str, Any]]) -> None:
    width = max(len(k) for k, _ in pairs)
    for key, value in pairs:
        out.print(f"[bold]{key.ljust(width)}[/]  {escape('-' if value is None else str(value))}")


_MARKS = {
    "done": "[green]done[/]",
    "unchanged": "[dim]already done[/]",
    "failed": "[bold red]FAILED[/]",
    "undone": "[yellow]rolled back[/]",
    "undo-failed": "[bold red]rollback FAILED[/]",
}


class StepPrinter:
    """Progress of provisioning steps on stderr; a spinner while a slow step runs."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.index = 0
        self._status: Any = None

    def __call__(self, event: StepEvent) -> None:
        if event.status == "start":
            self.index += 1
            self._status = err.status(f"[{self.index}/{self.total}] {escape(event.title)} ...")
            self._status.start()
            return
        if self._status is not None:
            self._status.stop()
            self._status = None
        mark = _MARKS.get(event.status, event.status)
        timing = f" ({event.seconds:.1f} s)" if event.seconds >= 0.05 else ""
        undoing = event.status in ("undone", "undo-failed")
        prefix = "  undo" if undoing else f"[{self.index}/{self.total}]"
        line = f"{escape(prefix)} {escape(event.title)}: {mark}{timing}"
        if event.detail and event.status in ("failed", "undo-failed"):
            line += f"\n      {escape(event.detail)}"
        err.print(line)

    @contextmanager
    def active(self) -> Iterator[None]:
        try:
            yield
        finally:
            if self._status is not None:
                self._status.stop()
