"""The first process inside a service's sandbox: `python -m oqto.sandbox.init [relays] -- CMD...`.

It installs the seccomp filter (inherited by everything CMD starts), then:

- without relays, becomes CMD (exec: no extra process);
- with relays, runs CMD as its child and carries connections across the network
  namespace's edge until CMD exits, then exits with CMD's status:
  `--agent-socket PATH --agent-port N`: connections to the Unix socket PATH (made 0600,
  outside reachable because its dir is bound in) go to 127.0.0.1:N inside, where the
  agent listens; `--egress-socket PATH --egress-port N`: connections to 127.0.0.1:N
  inside go to the egress proxy's Unix socket PATH (outside).

SIGTERM, SIGINT and SIGHUP are passed on to CMD, and CMD is killed if this process dies.
Imports stay light (no pydantic/fastapi/httpx): it lives as long as the service does.
"""

from __future__ import annotations

import os
import sys

from oqto.sandbox import seccomp

_USAGE = (
    "usage: python -m oqto.sandbox.init [--agent-socket PATH --agent-port N] "
    "[--egress-socket PATH --egress-port N] -- CMD [ARG...]"
)


class UsageError(Exception):
    pass


class Relay:
    """One direction across the namespace's edge: accept on `listen`, connect to `connect`
    (a Unix socket path, or a loopback port). A plain class: dataclasses and pathlib
    cost more start-up than everything else the init imports."""

    __slots__ = ("connect", "listen")

    def __init__(self, listen: str | int, connect: str | int) -> None:
        self.listen = listen
        self.connect = connect


def parse(argv: list[str]) -> tuple[list[str], list[Relay]]:
    """The command and the relays."""
    if "--" not in argv or argv.index("--") == len(argv) - 1:
        raise UsageError("no command after `--`")
    split = argv.index("--")
    given: dict[str, str] = {}
    opts = argv[:split]
    if len(opts) % 2:
        raise UsageError(f"option without a value: {opts[-1]}")
    for name, value in zip(opts[::2], opts[1::2], strict=True):
        if name not in ("--agent-socket", "--agent-port", "--egress-socket", "--egress-port"):
            raise UsageError(f"unknown option {name}")
        given[name] = value
    relays = []
    for kind in ("agent", "egress"):
        path, port = given.get(f"--{kind}-socket"), given.get(f"--{kind}-port")
        if (path is None) != (port is None):
            raise UsageError(f"--{kind}-socket and --{kind}-port go together")
        if path is None or port is None:
            continue
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise UsageError(f"--{kind}-port: not a port: {port}")
        if kind == "agent":
            relays.append(Relay(listen=path, connect=int(port)))
        else:
            relays.append(Relay(listen=int(port), connect=path))
    return argv[split + 1 :], relays


def execute(command: list[str]) -> int:
    """Become `command`; returns (127) only if it cannot be run."""
    try:
        os.execvp(command[0], command)  # noqa: S606 (the service's own argv, no shell)
    except OSError as exc:
        print(f"oqto-sandbox-init: {command[0]}: {exc.strerror}", file=sys.stderr)
    return 127


def main(argv: list[str] | None = None) -> int:
    try:
        command, relays = parse(sys.argv[1:] if argv is None else argv)
    except UsageError as exc:
        print(f"oqto-sandbox-init: {exc}\n{_USAGE}", file=sys.stderr)
        return 2
    try:
        seccomp.install()
    except OSError as exc:
        print(f"oqto-sandbox-init: cannot install the seccomp filter: {exc}", file=sys.stderr)
        return 126
    if not relays:
        return execute(command)
    # Only here: importing asyncio costs more start-up than all the rest of the init.
    from oqto.sandbox import relay

    return relay.run(command, relays, execute)


if __name__ == "__main__":
    sys.exit(main())
