"""The attach command against a real tmux server: create, reattach, the bound, close,
and refusing what ttyd could be sent."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from oqto.protocol.terminals import MAX_TERMINALS
from oqto.userplane import terminal_attach

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")


@pytest.fixture
def socket_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "t"
    directory.mkdir(mode=0o700)
    yield directory
    assert TMUX
    subprocess.run([TMUX, "-S", str(directory / "tmux.sock"), "kill-server"], capture_output=True)


def attach(socket_dir: Path, *url_args: str) -> subprocess.CompletedProcess[str]:
    """The command as ttyd runs it, without a terminal: tmux's attach then fails ("not a
    terminal") after the session was made, which is all these checks need."""
    assert TMUX
    argv = terminal_attach.command(TMUX, socket_dir, ["/bin/sh"])
    return subprocess.run(
        [*argv, *url_args],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=socket_dir,
        env={**os.environ, "TMUX": ""},
    )


def sessions(socket_dir: Path) -> list[str]:
    assert TMUX
    listed = subprocess.run(
        [TMUX, "-S", str(socket_dir / "tmux.sock"), "list-sessions", "-F", "#{session_name}"],
        capture_output=True,
        text=True,
    )
    return sorted(listed.stdout.split(), key=int)


def test_the_command_is_ours_up_to_the_separator(socket_dir: Path) -> None:
    argv = terminal_attach.command("/usr/bin/tmux", socket_dir, ["/bin/bash", "-l"])
    assert argv[:3] == [sys.executable, "-m", "oqto.userplane.terminal_attach"]
    assert argv[-1] == "--" and argv.count("--") == 1


def test_creates_each_name_once_bounds_the_count_and_closes(socket_dir: Path) -> None:
    attach(socket_dir)
    attach(socket_dir, "2")
    attach(socket_dir, "2")
    assert sessions(socket_dir) == ["1", "2"]
    for n in range(3, MAX_TERMINALS + 1):
        attach(socket_dir, str(n))
    assert len(sessions(socket_dir)) == MAX_TERMINALS
    refused = attach(socket_dir, "50")
    assert refused.returncode == 1
    assert f"already has {MAX_TERMINALS} terminals" in refused.stderr
    assert "50" not in sessions(socket_dir)
    assert attach(socket_dir, "2", "close").returncode == 0
    assert "2" not in sessions(socket_dir)
    attach(socket_dir, "50")
    assert "50" in sessions(socket_dir)


@pytest.mark.parametrize("args", [["-t"], ["1", "-x"], ["1;ls"], ["1", "2"], ["=1"]])
def test_refuses_hostile_arguments_without_touching_tmux(socket_dir: Path, args: list[str]) -> None:
    result = attach(socket_dir, *args)
    assert result.returncode == 2
    assert result.stderr.startswith("oqto: ")
    assert not (socket_dir / "tmux.sock").exists()
