"""The control plane's side of a runner socket: one multiplexed connection per runner,
a timeout on every call, and `RunnerUserPlane`, the `UserPlane` contract over it."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import socket
from pathlib import Path
from typing import Any

from oqto.osutil.peercred import from_transport, peer_credentials
from oqto.protocol.runner import (
    MAX_FRAME_BYTES,
    PROTOCOL_VERSION,
    Empty,
    ErrorCode,
    ErrorMessage,
    EventMessage,
    FrameReader,
    HelloMessage,
    Method,
    ParamsT,
    ProtocolError,
    RequestMessage,
    ResponseMessage,
    ResultT,
    RunnerMethod,
    SessionConnectParams,
    SessionIdParams,
    SessionStartParams,
    decode_frame,
    encode,
    parse_event,
    parse_message,
)
from oqto.protocol.sessions import ServiceName, SessionEvent, SessionRuntime, SessionSpec
from oqto.sockclient import OpenerError, check_owner
from oqto.userplane.base import EventHandler, UserPlane, UserPlaneError

log = logging.getLogger(__name__)

# The answer to session.connect is two short lines; a runner that sends more is broken.
_MAX_PASS_REPLY = 64 << 10


class RunnerUnavailable(UserPlaneError):
    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.RUNNER_UNAVAILABLE, message)


def _bad_answer(exc: ProtocolError) -> UserPlaneError:
    return UserPlaneError(ErrorCode.INVALID_MESSAGE, f"bad answer from the runner: {exc}")


class RunnerClient:
    def __init__(
        self,
        socket_path: Path,
        *,
        timeout: float,
        expected_uid: int | None = None,
        agent: str = "oqto-control",
    ) -> None:
        self.socket_path = socket_path
        self.expected_uid = expected_uid
        self.timeout = timeout
        self._agent = agent
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._connect_lock = asyncio.Lock()
        self._write_lock = asyncio.Lock()
        self.on_event: EventHandler | None = None
        self.peer_uid: int | None = None

    async def _connect(self) -> None:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_unix_connection(str(self.socket_path), limit=MAX_FRAME_BYTES + 1024),
                self.timeout,
            )
        except (OSError, TimeoutError) as exc:
            raise RunnerUnavailable(
                f"cannot connect to the runner at {self.socket_path}: "
                f"{getattr(exc, 'strerror', None) or exc or 'timed out'}"
            ) from None
        frames = FrameReader(reader)
        try:
            self._check_server(from_transport(writer.transport).uid)
        except RunnerUnavailable:
            writer.close()
            raise
        try:
            writer.write(encode(HelloMessage(protocol=PROTOCOL_VERSION, agent=self._agent)))
            await writer.drain()
            frame = await asyncio.wait_for(frames.next_frame(), self.timeout)
            if frame is None or isinstance(frame, ProtocolError):
                raise RunnerUnavailable("the runner closed the connection during the handshake")
            hello = parse_message(frame)
            if isinstance(hello, ErrorMessage):
                raise RunnerUnavailable(f"the runner refused us: {hello.error.message}")
            if not isinstance(hello, HelloMessage) or hello.uid is None:
                raise RunnerUnavailable("the runner answered the handshake with something else")
        except (OSError, TimeoutError, ProtocolError) as exc:
            writer.close()
            raise RunnerUnavailable(f"runner handshake failed: {exc or 'timed out'}") from None
        except BaseException:
            writer.close()
            raise
        self.peer_uid = hello.uid
        self._writer = writer
        self._reader_task = asyncio.create_task(self._read_loop(frames))
        if self.on_event is not None:
            await self._call(Method.SUBSCRIBE, Empty(), self.timeout)

    def _check_server(self, served_by: int) -> None:
        """Whoever serves the runner's path must be the account we mean, not something
        that got a socket there first."""
        if self.expected_uid is not None and served_by != self.expected_uid:
            raise RunnerUnavailable(
                f"{self.socket_path} is served by uid {served_by}, not {self.expected_uid}"
            )

    async def _read_loop(self, frames: FrameReader) -> None:
        # A runner is run by its user, who may have replaced it: the first thing it sends
        # that breaks the protocol ends the connection (every pending call then fails).
        try:
            while (frame := await frames.next_frame()) is not None:
                if isinstance(frame, ProtocolError):
                    log.warning("bad frame from runner %s: %s", self.socket_path, frame.message)
                    return
                try:
                    message = parse_message(frame)
                except ProtocolError as exc:
                    log.warning("bad message from runner %s: %s", self.socket_path, exc.message)
                    return
                if isinstance(message, ResponseMessage):
                    future = self._pending.pop(message.id, None)
                    if future is not None and not future.done():
                        future.set_result(message.result)
                elif isinstance(message, ErrorMessage) and message.id is not None:
                    future = self._pending.pop(message.id, None)
                    if future is not None and not future.done():
                        future.set_exception(
                            UserPlaneError(message.error.code, message.error.message)
                        )
                elif isinstance(message, EventMessage) and self.on_event is not None:
                    await self._dispatch(message)
        except (ConnectionError, OSError):
            pass
        finally:
            self._drop("the runner closed the connection")

    async def _dispatch(self, message: EventMessage) -> None:
        try:
            event = parse_event(message)
        except ProtocolError as exc:
            log.warning("bad event from runner: %s", exc.message)
            return
        if isinstance(event, SessionEvent) and self.on_event is not None:
            try:
                await self.on_event(event)
            except Exception:
                log.exception("session event handler failed")

    def _drop(self, reason: str) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(RunnerUnavailable(reason))

    async def call(
        self,
        method: RunnerMethod[ParamsT, ResultT],
        params: ParamsT,
        time_limit: float | None = None,
    ) -> ResultT:
        """Call `method` with its params model; its result model comes back, validated."""
        async with self._connect_lock:
            if self._writer is None:
                await self._connect()
        return await self._call(method, params, time_limit or self.timeout)

    async def _call(
        self, method: RunnerMethod[ParamsT, ResultT], params: ParamsT, time_limit: float
    ) -> ResultT:
        request_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            data = encode(
                RequestMessage(
                    id=request_id, method=method.name, params=params.model_dump(mode="json")
                )
            )
            async with self._write_lock:
                if self._writer is None:
                    raise RunnerUnavailable("not connected to the runner")
                self._writer.write(data)
                await self._writer.drain()
            result = await asyncio.wait_for(future, time_limit)
        except TimeoutError:
            raise UserPlaneError(
                ErrorCode.TIMEOUT,
                f"the runner did not answer {method.name} within {time_limit:g} s",
            ) from None
        except (ConnectionError, OSError) as exc:
            self._drop(str(exc))
            raise RunnerUnavailable(f"lost the runner connection: {exc}") from None
        finally:
            self._pending.pop(request_id, None)
        try:
            return method.parse_result(result, request_id=request_id)
        except ProtocolError as exc:
            raise _bad_answer(exc) from None

    async def receive_socket(self, session_id: str, service: ServiceName) -> socket.socket:
        """`session.connect` on a connection of its own: the runner answers with a socket
        connected to the service (SCM_RIGHTS) and hangs up. The socket is checked by the
        caller; this only makes sure it came from the right runner as the protocol says."""
        loop = asyncio.get_running_loop()
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.setblocking(False)
        try:
            async with asyncio.timeout(self.timeout):
                await loop.sock_connect(conn, str(self.socket_path))
                self._check_server(peer_credentials(conn).uid)
                await loop.sock_sendall(
                    conn,
                    encode(HelloMessage(protocol=PROTOCOL_VERSION, agent=self._agent))
                    + encode(
                        RequestMessage(
                            id=1,
                            method=Method.SESSION_CONNECT.name,
                            params=SessionConnectParams(id=session_id, service=service).model_dump(
                                mode="json"
                            ),
                        )
                    ),
                )
                lines, fds = await _read_lines_with_fds(conn, 2)
        except (OSError, TimeoutError) as exc:
            raise RunnerUnavailable(
                f"cannot get a {service.value} connection from the runner: "
                f"{getattr(exc, 'strerror', None) or exc or 'timed out'}"
            ) from None
        finally:
            conn.close()
        try:
            self._check_pass_reply(lines, service)
            if len(fds) != 1:
                raise UserPlaneError(
                    ErrorCode.INVALID_MESSAGE, f"the runner passed {len(fds)} descriptors, not one"
                )
            try:
                # Detects the family and type; a descriptor that is no socket fails here.
                passed = socket.socket(fileno=fds[0])
            except OSError:
                raise UserPlaneError(
                    ErrorCode.UPSTREAM_REFUSED,
                    "the runner passed a descriptor that is not a socket",
                ) from None
            fds.clear()  # the socket object owns it now
            return passed
        finally:
            _close_all(fds)

    @staticmethod
    def _check_pass_reply(
        lines: list[dict[str, Any] | ProtocolError], service: ServiceName
    ) -> None:
        try:
            if len(lines) < 2 or isinstance(lines[0], ProtocolError):
                raise ProtocolError(ErrorCode.INVALID_MESSAGE, "no handshake")
            hello = parse_message(lines[0])
            if isinstance(hello, ErrorMessage):
                raise UserPlaneError(hello.error.code, hello.error.message)
            if isinstance(lines[1], ProtocolError):
                raise lines[1]
            reply = parse_message(lines[1])
        except ProtocolError as exc:
            raise _bad_answer(exc) from None
        if isinstance(reply, ErrorMessage):
            raise UserPlaneError(reply.error.code, reply.error.message)
        if not isinstance(reply, ResponseMessage) or reply.id != 1:
            raise UserPlaneError(ErrorCode.INVALID_MESSAGE, "the runner answered something else")
        try:
            result = Method.SESSION_CONNECT.parse_result(reply.result, request_id=1)
        except ProtocolError as exc:
            raise _bad_answer(exc) from None
        if result.service is not service:
            raise UserPlaneError(ErrorCode.INVALID_MESSAGE, "the runner passed another service")

    async def close(self) -> None:
        self._drop("client closed")
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader_task


def _close_all(fds: list[int]) -> None:
    """Close received descriptors by number: a hostile runner may pass pipes or files,
    and each one left open is one less for everybody else."""
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)
    fds.clear()


async def _readable(loop: asyncio.AbstractEventLoop, conn: socket.socket) -> None:
    ready: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(conn.fileno(), wake)
    try:
        await ready
    finally:
        loop.remove_reader(conn.fileno())


async def _read_lines_with_fds(
    conn: socket.socket, count: int
) -> tuple[list[dict[str, Any] | ProtocolError], list[int]]:
    """Read `count` newline-terminated frames and every descriptor that arrives with
    them (close-on-exec from the start), from a non-blocking socket."""
    loop = asyncio.get_running_loop()
    buffer = bytearray()
    fds: list[int] = []
    try:
        while buffer.count(b"\n") < count:
            await _readable(loop, conn)
            try:
                data, received, _flags, _addr = socket.recv_fds(
                    conn, _MAX_PASS_REPLY, 4, socket.MSG_CMSG_CLOEXEC
                )
            except BlockingIOError:
                continue
            fds.extend(received)
            if not data:
                break
            buffer += data
            if len(buffer) > _MAX_PASS_REPLY:
                raise ConnectionError("the runner's answer is too long")
    except BaseException:
        _close_all(fds)
        raise
    lines: list[dict[str, Any] | ProtocolError] = []
    for line in bytes(buffer).split(b"\n")[:count]:
        lines.append(decode_frame(line))
    return lines, fds


class RunnerUserPlane(UserPlane):
    """The user plane of one Linux account, reached through its runner."""

    def __init__(self, client: RunnerClient, start_timeout: float) -> None:
        self.client = client
        self._start_timeout = start_timeout

    async def connect_service(self, session_id: str, service: ServiceName) -> socket.socket:
        """The runner connects (as its user) and hands us the socket; we then ask the
        kernel who serves its far end. The service account needs no access to any
        session socket, and a runner that names someone else's service is refused."""
        if self.client.expected_uid is None:
            raise UserPlaneError(ErrorCode.UPSTREAM_REFUSED, "no expected uid for this runner")
        passed = await self.client.receive_socket(session_id, service)
        try:
            return check_owner(passed, self.client.expected_uid, f"the {service.value} socket")
        except OpenerError as exc:
            log.warning("runner of uid %s: %s", self.client.expected_uid, exc)
            raise UserPlaneError(exc.code, exc.message) from None

    def set_event_handler(self, handler: EventHandler) -> None:
        self.client.on_event = handler

    async def start_session(self, spec: SessionSpec) -> SessionRuntime:
        result = await self.client.call(
            Method.SESSION_START,
            SessionStartParams(spec=spec),
            time_limit=self._start_timeout + self.client.timeout,
        )
        return result.session

    async def stop_session(self, session_id: str) -> None:
        await self.client.call(Method.SESSION_STOP, SessionIdParams(id=session_id), time_limit=60)

    async def get_session(self, session_id: str) -> SessionRuntime | None:
        result = await self.client.call(Method.SESSION_GET, SessionIdParams(id=session_id))
        return result.session

    async def list_sessions(self) -> list[SessionRuntime]:
        result = await self.client.call(Method.SESSION_LIST, Empty())
        return result.sessions

    async def close(self) -> None:
        """Disconnect; the sessions keep running under the runner."""
        await self.client.close()
