"""What ttyd runs for each terminal connection: attach to one of the session's tmux
sessions, creating it (and the tmux server) on first use, or end one.

ttyd (`--url-arg`) appends the connection's `?arg=` values after our own `--`: they are
checked against `oqto.protocol.terminals` and only ever used as a tmux session name
behind `=` (exact match), so a hostile query cannot add options or pick a pattern. The
count is checked and the session created under a lock, so two connections at once cannot
both take the last place. Runs as the session's owner inside the terminal's sandbox,
against the tmux server whose socket is in the terminal's own 0700 directory.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from oqto.protocol.terminals import MAX_TERMINALS, TerminalRequestError, from_url_args

HISTORY_LIMIT = "20000"


def command(tmux: str, socket_dir: Path, shell_argv: list[str]) -> list[str]:
    """The argv ttyd is given; its url arguments follow the `--`."""
    return [
        sys.executable,
        "-m",
        "oqto.userplane.terminal_attach",
        "--tmux",
        tmux,
        "--socket-dir",
        str(socket_dir),
        "--shell",
        json.dumps(shell_argv),
        "--",
    ]


def _sessions(tmux: list[str]) -> list[str]:
    """The tmux server's session names; none when it is not running yet."""
    listed = subprocess.run(
        [*tmux, "list-sessions", "-F", "#{session_name}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return listed.stdout.split() if listed.returncode == 0 else []


def _create(tmux: list[str], name: str, shell_argv: list[str]) -> None:
    # Detached, so that the attach below is the same for a new and an old terminal; the
    # status bar is off (the browser's tab is the terminal's label).
    subprocess.run(
        [
            *tmux,
            "start-server",
            ";",
            "set-option",
            "-g",
            "history-limit",
            HISTORY_LIMIT,
            ";",
            "set-option",
            "-g",
            "status",
            "off",
            ";",
            "new-session",
            "-d",
            "-s",
            name,
            "-c",
            os.getcwd(),
            "--",
            *shell_argv,
        ],
        check=True,
    )


def run(argv: Sequence[str]) -> int:
    split = list(argv).index("--") if "--" in argv else len(argv)
    parser = argparse.ArgumentParser(prog="terminal_attach")
    parser.add_argument("--tmux", required=True)
    parser.add_argument("--socket-dir", type=Path, required=True)
    parser.add_argument("--shell", type=json.loads, required=True)
    options = parser.parse_args(argv[:split])
    try:
        request = from_url_args(list(argv[split + 1 :]))
    except TerminalRequestError as exc:
        print(f"oqto: {exc}", file=sys.stderr)
        return 2
    tmux = [options.tmux, "-S", str(options.socket_dir / "tmux.sock")]
    with open(options.socket_dir / "terminals.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        existing = _sessions(tmux)
        if request.close:
            if request.name in existing:
                subprocess.run([*tmux, "kill-session", "-t", f"={request.name}"], check=False)
            return 0
        if request.name not in existing:
            if len(existing) >= MAX_TERMINALS:
                print(
                    f"oqto: this session already has {MAX_TERMINALS} terminals; "
                    "close one to open another",
                    file=sys.stderr,
                )
                return 1
            _create(tmux, request.name, options.shell)
    attach = [*tmux, "attach-session", "-t", f"={request.name}"]
    os.execv(attach[0], attach)  # noqa: S606 (our argv, no shell)


def main() -> None:
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
