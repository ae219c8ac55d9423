"""What every Oqto command line shares: one way to report a fatal error."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape

# soft_wrap: a message names files and keys; Rich must not break it across lines.
err = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print `error: message` (verbatim: config keys like `[server] listen` are not Rich
    markup) and return the Exit to raise."""
    err.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(code)
