"""A plain `opencode serve` of its own, for driving opencode's own web UI in a browser
(what Oqto's chat is compared with): its own HOME and XDG dirs, its own workspace, Basic
auth, and nothing left running afterwards."""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.opencode_smoke import (
    OpencodeProcess,
    seed_opencode_home,
    start_opencode,
    stop_opencode,
    wait_ready,
)
from tests.support.server import tool_env


def project_route(directory: Path) -> str:
    """The web UI's route to a project: its directory, base64url without padding (what
    the UI's own router decodes, checked on 1.18.33)."""
    encoded = base64.urlsafe_b64encode(str(directory).encode()).decode().rstrip("=")
    return f"/{encoded}/session"


@contextmanager
def plain_opencode(root: Path, config: dict[str, Any]) -> Iterator[OpencodeProcess]:
    """opencode serving `root/workspace` with `config`; stopped, with everything it
    started, on the way out."""
    binary = shutil.which("opencode", path=tool_env()["PATH"])
    assert binary is not None, "opencode is not installed: run scripts/setup.sh --test"
    home = root / "home"
    seed_opencode_home(home)
    # Spelled out, so that nothing of the caller's XDG_* can point opencode elsewhere.
    xdg = {
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "XDG_CACHE_HOME": str(home / ".cache"),
    }
    oc = start_opencode(
        binary,
        home=home,
        workdir=root / "workspace",
        config=config,
        log_path=root / "opencode.log",
        extra_env=xdg,
    )
    try:
        wait_ready(oc.base_url, oc.auth)
        yield oc
    finally:
        stop_opencode(oc.proc)
        assert oc.proc.poll() is not None, "opencode outlived its stop"
        # Orphans are reparented away from opencode, so look for them by where they run.
        assert processes_in(root) == [], "opencode left processes behind"


def processes_in(root: Path) -> list[str]:
    """Command lines of the processes whose working directory is inside `root`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if Path(os.readlink(entry / "cwd")).is_relative_to(root):
                found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    return found
