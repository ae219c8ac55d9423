"""configurable-http-proxy (CHP, JupyterHub's default proxy) as the peer the data plane is
compared with: `bench/run` installs the pinned version into `.tools/chp` (through
`scripts/setup.sh --bench`, which names the version); this starts it
in front of one upstream on free loopback ports and stops it again."""

from __future__ import annotations

import contextlib
import secrets
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path

from common import REPO, stop_process, wait_listening
from tests.support.server import free_port

BINARY = REPO / ".tools" / "chp" / "node_modules" / ".bin" / "configurable-http-proxy"


def installed_version() -> str | None:
    if not BINARY.exists():
        return None
    try:
        out = subprocess.run([str(BINARY), "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


@contextlib.contextmanager
def running(upstream: str, log: Path, env: Mapping[str, str]) -> Iterator[str]:
    """CHP forwarding everything to `upstream` (`http://127.0.0.1:<port>`); yields its
    base URL. `env` should carry the run tag, so a CHP that outlives this is swept."""
    if not BINARY.exists():
        raise RuntimeError(f"configurable-http-proxy is not installed in {BINARY.parent}")
    port, api_port = free_port(), free_port()
    proc = subprocess.Popen(
        [
            str(BINARY),
            "--ip",
            "127.0.0.1",
            "--port",
            str(port),
            "--api-ip",
            "127.0.0.1",
            "--api-port",
            str(api_port),
            "--default-target",
            upstream,
            "--log-level",
            "warn",  # no line per request: that would be CHP's cost, not its proxying
        ],
        env={**env, "CONFIGPROXY_AUTH_TOKEN": secrets.token_hex(16)},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_listening(port, proc, log, "configurable-http-proxy")
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc)
