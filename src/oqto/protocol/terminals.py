"""A session's terminals: the rule for their names and how a request for one travels.

The browser asks for `/api/sessions/{id}/terminal?name=N` (attach to terminal N, creating
it) or `?name=N&close=1` (end it). The control plane checks that query against this rule
and rebuilds ttyd's URL from the parsed values alone (`?arg=N`, `?arg=N&arg=close`), never
from the raw query; ttyd (`--url-arg`) hands those values to the attach command
(`oqto.userplane.terminal_attach`) as arguments, which checks them again, since anything
that can reach ttyd's socket could send others. Names are short decimal numbers, so no
value can be read as an option or a tmux target pattern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl

# Each terminal is a tmux session with its own shell and scrollback: bounded per session.
MAX_TERMINALS = 8
DEFAULT_NAME = "1"
CLOSE = "close"
_NAME = re.compile(r"[1-9][0-9]?")


class TerminalRequestError(ValueError):
    """A terminal request that breaks the rule; its text is for the person who sent it."""


@dataclass(frozen=True)
class TerminalRequest:
    name: str = DEFAULT_NAME
    close: bool = False

    def url_args(self) -> list[str]:
        """What ttyd passes on to the attach command."""
        return [self.name, CLOSE] if self.close else [self.name]

    def ttyd_path(self) -> str:
        return "/ws?" + "&".join(f"arg={arg}" for arg in self.url_args())


def valid_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise TerminalRequestError(f"a terminal's name is a number from 1 to 99, not {name[:20]!r}")
    return name


def from_query(query: str) -> TerminalRequest:
    """The browser's query string: `name` at most once, `close=1` optionally, nothing else."""
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise TerminalRequestError("the terminal's query string is malformed") from None
    keys = [key for key, _ in pairs]
    unknown = sorted(set(keys) - {"name", "close"})
    if unknown:
        raise TerminalRequestError(f"unknown terminal parameter {unknown[0][:20]!r}")
    if len(keys) != len(set(keys)):
        raise TerminalRequestError("each terminal parameter may appear once")
    values = dict(pairs)
    if values.get("close", "1") != "1":
        raise TerminalRequestError("close takes the value 1")
    if "close" in values and "name" not in values:
        raise TerminalRequestError("name the terminal to close")
    return TerminalRequest(valid_name(values.get("name", DEFAULT_NAME)), "close" in values)


def from_url_args(args: list[str]) -> TerminalRequest:
    """The arguments ttyd appended: none (a client that names no terminal), `N` or
    `N close`."""
    if not args:
        return TerminalRequest()
    if len(args) == 1:
        return TerminalRequest(valid_name(args[0]))
    if len(args) == 2 and args[1] == CLOSE:
        return TerminalRequest(valid_name(args[0]), close=True)
    raise TerminalRequestError("expected a terminal's name, optionally followed by 'close'")
