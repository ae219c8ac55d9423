"""The usermgr socket server.

Who may talk to it: the socket is root-owned, group = the service account's group, mode
0660, in a 0750 directory of the same group; and every connection's SO_PEERCRED must be
the service account's uid. Each connection carries one request, read with a deadline and a
size limit; provisioning runs one at a time in a worker thread. If the client is gone by
the time provisioning finishes (it gave up waiting), the helper rolls back by itself, so a
registration that failed on the control plane's side never leaves an account behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pwd
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from oqto.osutil.peercred import from_transport
from oqto.osutil.unixsock import bind_unix_socket
from oqto.usermgr import protocol
from oqto.usermgr.protocol import ProvisionRequest, RequestError, RollbackRequest
from oqto.usermgr.service import Provisioner

log = logging.getLogger(__name__)

READ_TIMEOUT_SECONDS = 10.0
MAX_CONNECTIONS = 8


def service_uid(service_user: str) -> int | None:
    try:
        return pwd.getpwnam(service_user).pw_uid
    except KeyError:
        return None


def service_gid(service_user: str) -> int:
    return pwd.getpwnam(service_user).pw_gid


class UsermgrServer:
    def __init__(
        self,
        provisioner: Provisioner,
        allowed_uid: Callable[[], int | None],
        *,
        read_timeout: float = READ_TIMEOUT_SECONDS,
        work_timeout: float | None = None,
    ) -> None:
        self._provisioner = provisioner
        self._allowed_uid = allowed_uid
        self._read_timeout = read_timeout
        # A provisioning that takes longer than this is answered with a timeout error (and
        # rolled back once it does finish).
        self._work_timeout = work_timeout or (
            provisioner.host.provisioning.runner_start_timeout_seconds * 3 + 60
        )
        self._work_lock = asyncio.Lock()
        self._active = 0
        self._server: asyncio.Server | None = None

    async def serve(self, path: Path, gid: int) -> None:
        """Listen on `path` (root-owned, group `gid`, 0660, in a 0750 directory)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chown(path.parent, 0, gid)
        os.chmod(path.parent, 0o750)  # noqa: S103 - group = the service account only
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        sock = bind_unix_socket(path)
        os.chown(path, 0, gid)
        os.chmod(path, 0o660)
        self._server = await asyncio.start_unix_server(
            self._accept, sock=sock, limit=protocol.MAX_REQUEST_BYTES + 2
        )

    async def close(self) -> None:
        """Stop accepting; let a provisioning in progress finish (it runs in a thread and
        cannot be interrupted halfway without leaving a half-made account)."""
        if self._server is not None:
            self._server.close()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._work_timeout):
                async with self._work_lock:
                    pass

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._handle(reader, writer)
        except (ConnectionError, OSError):
            pass
        except Exception:
            log.exception("usermgr request failed")
        finally:
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            peer = from_transport(writer.transport)
        except (OSError, ValueError, TypeError):
            return
        allowed = self._allowed_uid()
        if allowed is None or peer.uid != allowed:
            log.warning("refused usermgr connection from uid=%s pid=%s", peer.uid, peer.pid)
            await self._send(writer, protocol.error("forbidden", "not the service account"))
            return
        if self._active >= MAX_CONNECTIONS:
            await self._send(writer, protocol.error("busy", "too many connections"))
            return
        self._active += 1
        try:
            await self._one_request(reader, writer, peer.pid)
        finally:
            self._active -= 1

    async def _one_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, pid: int
    ) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), self._read_timeout)
        except TimeoutError:
            await self._send(writer, protocol.error("timeout", "no request within the deadline"))
            return
        except (asyncio.LimitOverrunError, ValueError):
            await self._send(writer, protocol.error("too_large", "request too large"))
            return
        try:
            request = protocol.parse_request(line)
        except RequestError as exc:
            await self._send(writer, protocol.error(exc.code, exc.message))
            return
        log.info("usermgr request", extra={"op": request.op, "peer_pid": pid})
        if isinstance(request, ProvisionRequest):
            await self._provision(request, reader, writer)
        elif isinstance(request, RollbackRequest):
            answer = await self._work(
                lambda: self._provisioner.rollback(request.username, request.token)
            )
            await self._send(writer, answer)
        else:
            await self._send(writer, protocol.ok(self._provisioner.ping()))

    async def _work(self, call: Callable[[], BaseModel]) -> bytes:
        async with self._work_lock:
            try:
                return protocol.ok(await asyncio.to_thread(call))
            except RequestError as exc:
                return protocol.error(exc.code, exc.message)

    async def _provision(
        self,
        request: ProvisionRequest,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        # The client sends nothing after its request: EOF means it gave up.
        client_read = asyncio.create_task(reader.read(1))
        try:
            async with self._work_lock:
                work = asyncio.create_task(
                    asyncio.to_thread(self._provisioner.provision, request.username)
                )
                done, _ = await asyncio.wait({work}, timeout=self._work_timeout)
                if not done:
                    await self._send(
                        writer, protocol.error("timeout", "provisioning is taking too long")
                    )
                    # Keep the lock until it finishes, then undo it: nobody waits for it.
                    with contextlib.suppress(Exception):
                        late = await work
                        await self._undo_unclaimed(request.username, late.rollback_token)
                    return
                try:
                    result = work.result()
                except RequestError as exc:
                    await self._send(writer, protocol.error(exc.code, exc.message))
                    return
                if _gone(client_read) or not await self._send(writer, protocol.ok(result)):
                    log.warning("client left before provisioning of %s finished", request.username)
                    await self._undo_unclaimed(request.username, result.rollback_token)
        finally:
            client_read.cancel()

    async def _undo_unclaimed(self, username: str, token: str | None) -> None:
        if token is None:
            return
        try:
            await asyncio.to_thread(self._provisioner.rollback, username, token)
            log.warning("rolled back unclaimed provisioning of %s", username)
        except RequestError as exc:
            log.error("could not roll back unclaimed provisioning of %s: %s", username, exc)

    @staticmethod
    async def _send(writer: asyncio.StreamWriter, data: bytes) -> bool:
        try:
            writer.write(data)
            await writer.drain()
            return True
        except (ConnectionError, OSError):
            return False


def _gone(client_read: asyncio.Task[bytes]) -> bool:
    if not client_read.done():
        return False
    if client_read.cancelled() or client_read.exception() is not None:
        return True
    return client_read.result() == b""
