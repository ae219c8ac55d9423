"""Finding processes the tests started, to prove that nothing is left behind."""

from __future__ import annotations

import os
from pathlib import Path


def tagged_pids(marker: bytes = b"OQTO_SESSION_ID=", under: Path | None = None) -> dict[int, str]:
    """Every process carrying a session tag in its environment, with its command line.
    With `under`, only those whose working directory is inside it (so one server's leak
    check is not confused by another Oqto running on the same machine)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            if not any(var.startswith(marker) for var in environ.split(b"\0")):
                continue
            if under is not None and not Path(os.readlink(entry / "cwd")).is_relative_to(under):
                continue
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        found[int(entry.name)] = cmd
    return found
