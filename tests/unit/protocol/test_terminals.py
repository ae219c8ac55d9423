"""The terminal-name rule on both sides: the browser's query and ttyd's url arguments."""

from __future__ import annotations

import pytest

from oqto.protocol.terminals import (
    TerminalRequest,
    TerminalRequestError,
    from_query,
    from_url_args,
)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", TerminalRequest("1")),
        ("name=7", TerminalRequest("7")),
        ("name=42&close=1", TerminalRequest("42", close=True)),
        ("close=1&name=3", TerminalRequest("3", close=True)),
    ],
)
def test_good_queries(query: str, expected: TerminalRequest) -> None:
    assert from_query(query) == expected


@pytest.mark.parametrize(
    "query",
    [
        "name=",
        "name=01",
        "name=100",
        "name=-t",
        "name=%3D1",
        "name=1 ",
        "name=a",
        "name=1&name=1",
        "arg=1",
        "name=1&x=1",
        "close=1",
        "name=1&close=0",
        "name",
        "&&",
    ],
)
def test_bad_queries(query: str) -> None:
    with pytest.raises(TerminalRequestError):
        from_query(query)


def test_ttyd_gets_only_the_rebuilt_values() -> None:
    assert from_query("name=5").ttyd_path() == "/ws?arg=5"
    assert from_query("name=5&close=1").ttyd_path() == "/ws?arg=5&arg=close"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], TerminalRequest("1")),
        (["9"], TerminalRequest("9")),
        (["9", "close"], TerminalRequest("9", True)),
    ],
)
def test_good_url_args(args: list[str], expected: TerminalRequest) -> None:
    assert from_url_args(args) == expected
    assert from_url_args(expected.url_args()) == expected


@pytest.mark.parametrize(
    "args",
    [["-t"], ["1", "-x"], ["1", "close", "x"], ["close"], ["1", "2"], ["=1"], ["1\n"]],
)
def test_bad_url_args(args: list[str]) -> None:
    with pytest.raises(TerminalRequestError):
        from_url_args(args)
