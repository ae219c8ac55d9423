"""Where a new password comes from: stdin, an interactive prompt, or generated."""

from __future__ import annotations

import secrets
import sys

import typer

from oqto.control.auth.passwords import password_problem
from oqto.ctl.output import fail


def obtain(from_stdin: bool) -> tuple[str, bool]:
    """Returns (password, generated)."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        return secrets.token_urlsafe(15), True
    if problem := password_problem(password):
        raise fail(problem)
    return password, False
