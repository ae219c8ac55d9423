"""A hostile `oqto-runner`: what a platform user can run in place of their own runner.

It speaks enough of protocol v1 to be taken for a runner, then lies. What it does is read
from a JSON "plan" file on every request, so one process serves every attack of a test:

    {"connect": ["tcp", port] | ["unix", path] | ["pipe"] | ["listening"]
                | ["ws-bomb", megabytes],  a WebSocket service of our own sending one
                                           frame that large
     "start_extra": {...},          extra fields in the SessionRuntime it reports
     "get_id": "other-session-id",  answer session.get about another session
     "spoof": "other-session-id"}   push session.state failed for it on subscribe

Usage: python hostile_runner.py SOCKET PLAN SERVICE_UID
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import socket
import struct
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


async def ws_bomb(sock: socket.socket, megabytes: int) -> None:
    """Answer a WebSocket upgrade, then send one binary frame of `megabytes` MiB, in
    pieces so that this process never holds it."""
    reader, writer = await asyncio.open_connection(sock=sock)
    request = await reader.readuntil(b"\r\n\r\n")
    key = next(
        line.split(b":", 1)[1].strip()
        for line in request.split(b"\r\n")
        if line.lower().startswith(b"sec-websocket-key:")
    )
    accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
    writer.write(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Protocol: tty\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
    )
    size = megabytes << 20
    writer.write(b"\x82\x7f" + struct.pack("!Q", size))
    piece = b"0" * (1 << 20)
    try:
        for _ in range(megabytes):
            writer.write(piece)
            await writer.drain()
    except ConnectionError:
        pass
    writer.close()


BOMBS: set[asyncio.Task[None]] = set()


def make_passed() -> socket.socket | int:
    how = plan()["connect"]
    if how[0] == "ws-bomb":
        ours, theirs = socket.socketpair()
        task = asyncio.get_running_loop().create_task(ws_bomb(ours, how[1]))
        BOMBS.add(task)
        task.add_done_callback(BOMBS.discard)
        return theirs
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
                if isinstance(passed, socket.socket):
                    passed.close()
                elif isinstance(passed, int):
                    os.close(passed)
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
