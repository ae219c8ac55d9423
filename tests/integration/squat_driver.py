"""Run inside a fresh network namespace (`unshare --net`, as root) by
test_session_hardening.py: another account listens on the port opencode tries first,
then a real session starts through `LocalUserPlane` (the code a runner and a single-user
server both use). Prints one JSON line: did the session run, did the agent answer over a
verified connection, what did the squatter receive.

Usage: python squat_driver.py WORKDIR"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from oqto.httpclient import UpstreamPool, basic_authorization, fetch
from oqto.protocol.sessions import ServiceName, SessionSpec
from oqto.userplane.confinement import SandboxSettings
from oqto.userplane.local import LocalSettings, LocalUserPlane
from oqto.userplane.services import ServiceSettings

REPO = Path(__file__).resolve().parents[2]
FIRST_PORT = 4096  # what `opencode serve --port 0` tries before a random one
SQUATTER = """
import os, socket, sys, threading, time

def serve(s):
    while True:
        c, _ = s.accept()
        c.settimeout(5)
        try:
            data = c.recv(65536)
        except OSError:
            data = b""
        with open(sys.argv[2], "ab") as f:
            f.write(data or b"<a connection without data>")
        c.close()

def listen(port):
    s = socket.socket()
    s.bind(("127.0.0.1", port))
    s.listen()
    threading.Thread(target=serve, args=(s,), daemon=True).start()

listen(int(sys.argv[1]))
print("READY", flush=True)
# The old attack: read the port a session's opencode was told to use from its argv
# (world-readable in /proc) and bind it before opencode does.
taken = set()
while True:
    for pid in os.listdir("/proc"):
        try:
            argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\\0")
        except OSError:
            continue
        if b"--port" in argv[:-1]:
            port = argv[argv.index(b"--port") + 1]
            if port.isdigit() and int(port) not in taken and int(port) != 0:
                taken.add(int(port))
                try:
                    listen(int(port))
                except OSError:
                    pass
    time.sleep(0.002)  # the attacker's pace, not a synchronisation
"""


async def main(work: Path) -> dict[str, object]:
    received = work / "squatted"
    squatter = subprocess.Popen(
        [
            *("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"),
            *("/usr/bin/python3", "-c", SQUATTER, str(FIRST_PORT), str(received)),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert squatter.stdout is not None
    ready = squatter.stdout.readline().strip() == "READY"
    tools = REPO / ".tools" / "bin"
    admin_file = work / "sandbox.toml"
    admin_file.write_text('profile = "minimal"\n')
    plane = LocalUserPlane(
        LocalSettings(
            workspace_root=str(work / "ws" / "{user}"),
            runtime_dir=work / "run",
            log_dir=work / "logs",
            services=ServiceSettings(
                opencode_binary=str(tools / "opencode"),
                opencode_config=None,
                ttyd_binary=str(tools / "ttyd"),
                shell="/bin/sh",
                files_max_upload_mb=1,
            ),
            # The host's network: the squatted-port case only exists there.
            sandbox=SandboxSettings(
                admin_file=admin_file,
                bwrap="bwrap",
                private_dirs=(),
                default_allow_hosts=(),
            ),
            start_timeout=240,
            stop_grace=3,
        )
    )
    result: dict[str, object] = {"squatter_ready": ready}
    try:
        spec = SessionSpec(id="squatted1", owner="t", workspace="w")
        runtime = await plane.start_session(spec)
        result["state"] = runtime.state.value
        ports: list[int] = []

        async def opener() -> socket.socket:
            sock = await plane.connect_service(spec.id, ServiceName.AGENT)
            ports.append(sock.getpeername()[1])
            return sock

        auth = runtime.agent_auth
        assert auth is not None
        pool = UpstreamPool(opener, b"agent", basic_authorization(auth.username, auth.password))
        try:
            result["agent_status"] = await fetch(pool, "/global/health")
        finally:
            pool.close()
        result["agent_port"] = ports[0]
        await plane.stop_session(spec.id)
    finally:
        await plane.close()
        squatter.kill()
        squatter.wait()
    result["received"] = received.read_text(errors="replace") if received.exists() else ""
    return result


if __name__ == "__main__":
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    os.environ["HOME"] = str(REPO / ".cache" / "opencode-home")
    print(json.dumps(asyncio.run(main(Path(sys.argv[1])))), flush=True)
