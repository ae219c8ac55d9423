"""The runner's socket server: peer check, handshake, concurrent requests, pushed events."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pwd
import socket
from pathlib import Path

from pydantic import BaseModel

from oqto.osutil import acl
from oqto.osutil.peercred import PeerPolicy, from_transport
from oqto.osutil.unixsock import bind_unix_socket
from oqto.protocol.runner import (
    EVENT_SESSION_STATE,
    MAX_FRAME_BYTES,
    PROTOCOL_VERSION,
    ErrorCode,
    EventMessage,
    HelloMessage,
    Message,
    Method,
    ProtocolError,
    RequestMessage,
    ResponseMessage,
    SessionConnectResult,
    encode,
    parse_message,
    parse_params,
)
from oqto.protocol.runner import FrameReader as _FrameReader
from oqto.protocol.sessions import SessionEvent
from oqto.runner.handlers import RunnerHandlers

log = logging.getLogger(__name__)

MAX_IN_FLIGHT = 32


class _Connection:
    def __init__(self, writer: asyncio.StreamWriter, peer_uid: int) -> None:
        self.writer = writer
        self.peer_uid = peer_uid
        self.subscribed = False
        self._lock = asyncio.Lock()

    async def send(self, message: BaseModel) -> None:
        data = encode(message)
        async with self._lock:
            self.writer.write(data)
            await self.writer.drain()

    async def send_with_socket(self, message: BaseModel, passed: socket.socket) -> None:
        """Send `message` with `passed` attached (SCM_RIGHTS) to its bytes. The stream
        transport must have nothing queued, or the descriptor would ride on the wrong
        bytes; `session.connect` is answered on a connection used for nothing else."""
        data = encode(message)
        async with self._lock:
            await self.writer.drain()
            transport = self.writer.transport
            if transport.get_write_buffer_size():
                raise ConnectionError("output still queued; cannot pass a socket now")
            raw = transport.get_extra_info("socket")
            with raw.dup() as sock:
                sent = socket.send_fds(sock, [data], [passed.fileno()])
            if sent != len(data):
                raise ConnectionError("short write while passing a socket")


class RunnerServer:
    def __init__(self, handlers: RunnerHandlers, policy: PeerPolicy) -> None:
        self._handlers = handlers
        self._policy = policy
        self._connections: set[_Connection] = set()
        self._server: asyncio.Server | None = None
        self._user = pwd.getpwuid(os.getuid()).pw_name

    async def publish(self, event: SessionEvent) -> None:
        message = EventMessage(event=EVENT_SESSION_STATE, data=event.model_dump(mode="json"))
        for conn in [c for c in self._connections if c.subscribed]:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await conn.send(message)

    async def serve(self, path: Path, grant_uid: int | None) -> asyncio.Server:
        """Listen on `path`: 0600 and owned by us, plus an ACL entry for the service
        account. Nobody else can connect; SO_PEERCRED then checks who did."""
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        sock = bind_unix_socket(path)
        if grant_uid is not None:
            acl.grant_user(path.parent, grant_uid, "x")
            acl.grant_user(path, grant_uid, "rw")
        self._server = await asyncio.start_unix_server(
            self._accept, sock=sock, limit=MAX_FRAME_BYTES + 1024
        )
        return self._server

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for conn in list(self._connections):
            conn.writer.close()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            cred = from_transport(writer.transport)
        except (OSError, ValueError):
            writer.close()
            return
        if not self._policy.check(cred):
            log.warning(
                "refused runner connection from uid=%s pid=%s (not this user, root or the "
                "service account)",
                cred.uid,
                cred.pid,
            )
            writer.close()
            return
        conn = _Connection(writer, cred.uid)
        self._connections.add(conn)
        try:
            await self._serve_connection(conn, _FrameReader(reader))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._connections.discard(conn)
            writer.close()

    async def _serve_connection(self, conn: _Connection, frames: _FrameReader) -> None:
        """Hostile until proven otherwise: the first frame must be a hello of our
        protocol version, and the first frame that is not a valid message ends the
        connection (after saying why). A peer that streams something else at us (an
        HTTP request pushed into the socket, say) gets one error and is gone."""
        tasks: set[asyncio.Task[None]] = set()
        try:
            if not await self._greet(conn, frames):
                return
            while (message := await self._next_message(conn, frames)) is not None:
                if not isinstance(message, RequestMessage):
                    await conn.send(
                        ProtocolError(
                            ErrorCode.INVALID_MESSAGE, f"a client may not send {message.type}"
                        ).to_message()
                    )
                    return
                if message.method == Method.SESSION_CONNECT.name:
                    # Answered with a socket attached: nothing else may share the stream.
                    if tasks:
                        await conn.send(
                            ProtocolError(
                                ErrorCode.INVALID_MESSAGE,
                                "session.connect needs a connection of its own",
                                message.id,
                            ).to_message()
                        )
                    else:
                        await self._pass_socket(conn, message)
                    return
                if len(tasks) >= MAX_IN_FLIGHT:
                    await conn.send(
                        ProtocolError(
                            ErrorCode.BUSY,
                            f"more than {MAX_IN_FLIGHT} requests in flight",
                            message.id,
                        ).to_message()
                    )
                    continue
                task = asyncio.create_task(self._handle(conn, message))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    @staticmethod
    async def _next_message(conn: _Connection, frames: _FrameReader) -> Message | None:
        """The next valid message, or None at the end of the stream or after a frame that
        is not one (whose error has then been sent: the caller hangs up)."""
        frame = await frames.next_frame()
        if frame is None:
            return None
        if isinstance(frame, ProtocolError):
            await conn.send(frame.to_message())
            return None
        try:
            return parse_message(frame)
        except ProtocolError as exc:
            await conn.send(exc.to_message())
            return None

    async def _greet(self, conn: _Connection, frames: _FrameReader) -> bool:
        message = await self._next_message(conn, frames)
        if message is None:
            return False
        if not isinstance(message, HelloMessage):
            request_id = message.id if isinstance(message, RequestMessage) else None
            await conn.send(
                ProtocolError(
                    ErrorCode.HANDSHAKE_REQUIRED, "send hello first", request_id
                ).to_message()
            )
            return False
        if message.protocol != PROTOCOL_VERSION:
            await conn.send(
                ProtocolError(
                    ErrorCode.UNSUPPORTED_VERSION,
                    f"protocol {message.protocol} is not supported; "
                    f"this runner speaks {PROTOCOL_VERSION}",
                ).to_message()
            )
            return False
        await conn.send(
            HelloMessage(
                protocol=PROTOCOL_VERSION, agent="oqto-runner", uid=os.getuid(), user=self._user
            )
        )
        return True

    async def _pass_socket(self, conn: _Connection, request: RequestMessage) -> None:
        try:
            params = Method.SESSION_CONNECT.parse_params(request.params, request_id=request.id)
            passed = await self._handlers.connect(params)
        except ProtocolError as exc:
            exc.request_id = request.id
            await conn.send(exc.to_message())
            return
        try:
            reply = ResponseMessage(
                id=request.id, result=SessionConnectResult(service=params.service).model_dump()
            )
            await conn.send_with_socket(reply, passed)
        finally:
            passed.close()

    async def _handle(self, conn: _Connection, request: RequestMessage) -> None:
        try:
            params = parse_params(request.method, request.params, request_id=request.id)
            if request.method == Method.SUBSCRIBE.name:
                conn.subscribed = True
                result: BaseModel = params
            else:
                result = await self._handlers.table[request.method](params)
            reply: BaseModel = ResponseMessage(id=request.id, result=result.model_dump(mode="json"))
        except ProtocolError as exc:
            exc.request_id = request.id
            reply = exc.to_message()
        except Exception:
            log.exception("runner request failed method=%s", request.method)
            reply = ProtocolError(
                ErrorCode.INTERNAL, "internal error in the runner; see its log", request.id
            ).to_message()
        with contextlib.suppress(ConnectionError, RuntimeError):
            try:
                await conn.send(reply)
            except ValueError:  # the result does not fit in a frame
                await conn.send(
                    ProtocolError(
                        ErrorCode.INTERNAL, "result too large for one frame", request.id
                    ).to_message()
                )
