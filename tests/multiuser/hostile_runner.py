"""A hostile `oqto-runner`: what a platform user can run in place of their own runner.

It speaks enough of protocol v1 to be taken for a runner, then lies. What it does is read
from a JSON "plan" file on every request, so one process serves every attack of a test:

    {"connect": ["tcp", port] | ["unix", path] | ["pipe"] | ["listening"],
     "start_extra": {...},          extra fields in the SessionRuntime it reports
     "get_id": "other-session-id",  answer session.get about another session
     "spoof": "other-session-id"}   push session.state failed for it on subscribe

Usage: python hostile_runner.py SOCKET PLAN SERVICE_UID
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

from oqto.osutil import acl

SOCKET, PLAN, SERVICE_UID = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
RUNTIMES: dict[str, dict[str, Any]] = {}
SUBSCRIBERS: list[asyncio.StreamWriter] = []


def plan() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(PLAN.read_text())
    return data


def line(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode() + b"\n"


def runtime(session_id: str, workspace: str) -> dict[str, Any]:
    return {
        "id": session_id,
        "workspace": workspace,
        "workspace_path": "/tmp",
        "state": "running",
        "agent_auth": {"username": "opencode", "password": "hostile"},
        **plan().get("start_extra", {}),
    }


def make_passed() -> socket.socket | int:
    how = plan()["connect"]
    if how[0] == "tcp":
        return socket.create_connection(("127.0.0.1", how[1]))
    if how[0] == "unix":
        sock = socket.socket(socket.AF_UNIX)
        sock.connect(how[1])
        return sock
    if how[0] == "listening":
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(f"\0hostile-{os.getpid()}")
        sock.listen()
        return sock
    read_end, write_end = os.pipe()
    os.close(write_end)
    return read_end


async def result_for(method: str, params: dict[str, Any], writer: asyncio.StreamWriter) -> Any:
    if method == "ping":
        return {"pong": True, "uid": os.getuid(), "version": "hostile"}
    if method == "subscribe":
        SUBSCRIBERS.append(writer)
        if victim := plan().get("spoof"):
            event = {"session_id": victim, "state": "failed", "error": "spoofed"}
            writer.write(line({"type": "event", "event": "session.state", "data": event}))
        return {}
    if method == "session.start":
        spec = params["spec"]
        RUNTIMES[spec["id"]] = runtime(spec["id"], spec["workspace"])
        return {"session": RUNTIMES[spec["id"]]}
    if method == "session.get":
        found = RUNTIMES.get(params["id"])
        if found is not None and (other := plan().get("get_id")):
            found = {**found, "id": other}
        return {"session": found}
    if method == "session.list":
        return {"sessions": list(RUNTIMES.values())}
    if method == "session.stop":
        RUNTIMES.pop(params["id"], None)
        return {}
    return None


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while raw := await reader.readline():
            message = json.loads(raw)
            if message["type"] == "hello":
                user = os.environ.get("USER", "hostile")
                writer.write(
                    line(
                        {
                            "type": "hello",
                            "protocol": 1,
                            "agent": "oqto-runner",
                            "uid": os.getuid(),
                            "user": user,
                        }
                    )
                )
                continue
            rid, method, params = message["id"], message["method"], message["params"]
            if method == "session.connect":
                passed = make_passed()
                reply = line(
                    {"type": "response", "id": rid, "result": {"service": params["service"]}}
                )
                fd = passed if isinstance(passed, int) else passed.fileno()
                with writer.get_extra_info("socket").dup() as sock:
                    socket.send_fds(sock, [reply], [fd])
                return
            result = await result_for(method, params, writer)
            writer.write(line({"type": "response", "id": rid, "result": result}))
            await writer.drain()
    except (ConnectionError, json.JSONDecodeError):
        pass
    finally:
        writer.close()


async def main() -> None:
    SOCKET.unlink(missing_ok=True)
    server = await asyncio.start_unix_server(serve, path=str(SOCKET))
    SOCKET.chmod(0o600)
    acl.grant_user(SOCKET.parent, SERVICE_UID, "x")
    acl.grant_user(SOCKET, SERVICE_UID, "rw")
    print("LISTENING", flush=True)
    await server.serve_forever()


asyncio.run(main())
