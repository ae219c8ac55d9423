"""A real usermgr server on a temporary socket, run in a thread, for tests."""

from __future__ import annotations

import asyncio
import json
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from oqto.config import load_config
from oqto.osutil.accounts import LinuxAccount
from oqto.provisioning.launchers import ProcessLauncher
from oqto.provisioning.linux import host_settings
from oqto.usermgr.server import UsermgrServer
from oqto.usermgr.service import Provisioner

CLIENT = """
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.settimeout(120)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print(json.dumps({"connect_error": e.errno}))
    sys.exit(0)
try:
    s.sendall(sys.argv[2].encode())
except OSError:
    pass  # refused before we finished sending: the answer may still be readable
if sys.argv[3] == "close":
    s.close()
    sys.exit(0)
data = b""
while not data.endswith(b"\\n"):
    try:
        chunk = s.recv(65536)
    except OSError:
        break
    if not chunk:
        break
    data += chunk
print(data.decode() or json.dumps({"closed": True}))
"""


@contextmanager
def running_server(
    config: Path, socket_path: Path, allowed_uid: int | None, gid: int, **kwargs: Any
) -> Iterator[UsermgrServer]:
    loaded = load_config(config, environ={})
    provisioner = Provisioner(host_settings(loaded.config, loaded.path, launcher=ProcessLauncher()))
    loop = asyncio.new_event_loop()
    server = UsermgrServer(provisioner, lambda: allowed_uid, **kwargs)
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.serve(socket_path, gid))
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(30)
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(_shutdown(server), loop).result(60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()


def ask_as(
    account: LinuxAccount | None, socket_path: Path, line: str, mode: str = "read"
) -> dict[str, Any]:
    """Send `line` from a process running as `account` (None: as root)."""
    prefix = (
        []
        if account is None
        else ["setpriv", f"--reuid={account.uid}", f"--regid={account.gid}", "--init-groups"]
    )
    result = subprocess.run(
        [*prefix, "/usr/bin/python3", "-c", CLIENT, str(socket_path), line, mode],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    if mode == "close":
        return {}
    return dict(json.loads(result.stdout))


async def _shutdown(server: UsermgrServer) -> None:
    await server.close()
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
