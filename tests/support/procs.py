"""Finding processes the tests started, to prove that nothing is left behind."""

from __future__ import annotations

from pathlib import Path


def tagged_pids(marker: bytes = b"OQTO_SESSION_ID=") -> dict[int, str]:
    """Every process carrying a session tag in its environment, with its command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            if any(var.startswith(marker) for var in environ.split(b"\0")):
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                found[int(entry.name)] = cmd
        except OSError:
            continue
    return found
