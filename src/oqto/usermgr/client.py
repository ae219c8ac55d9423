"""The control plane's side of the usermgr socket."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from oqto.osutil.peercred import from_transport
from oqto.usermgr.protocol import PingResult, ProvisionResult, RollbackResult

MAX_ANSWER_BYTES = 64 * 1024


class UsermgrError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class UsermgrClient:
    def __init__(self, socket_path: Path, timeout: float) -> None:
        self.socket_path = socket_path
        self.timeout = timeout

    async def _call(self, request: dict[str, Any], limit: float) -> dict[str, Any]:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_unix_connection(str(self.socket_path), limit=MAX_ANSWER_BYTES),
                min(limit, 10.0),
            )
        except (OSError, TimeoutError) as exc:
            raise UsermgrError(
                "usermgr_unavailable",
                f"cannot reach the usermgr helper at {self.socket_path} "
                f"({getattr(exc, 'strerror', None) or 'timed out'}); is oqto-usermgr.service "
                "running?",
            ) from None
        try:
            # Only root may serve this socket: anything else got there first.
            if from_transport(writer.transport).uid != 0:
                raise UsermgrError("usermgr_unavailable", f"{self.socket_path} is not root's")
            writer.write(json.dumps(request).encode() + b"\n")
            await writer.drain()
            line = await asyncio.wait_for(reader.readline(), limit)
        except TimeoutError:
            raise UsermgrError("timeout", "the usermgr helper did not answer in time") from None
        except (OSError, ValueError) as exc:
            raise UsermgrError("usermgr_unavailable", f"usermgr connection failed: {exc}") from None
        finally:
            writer.close()
        try:
            answer = json.loads(line)
        except json.JSONDecodeError:
            raise UsermgrError("invalid_answer", "the usermgr helper sent garbage") from None
        if not isinstance(answer, dict):
            raise UsermgrError("invalid_answer", "the usermgr helper sent garbage")
        if not answer.get("ok"):
            err = answer.get("error") or {}
            raise UsermgrError(str(err.get("code", "error")), str(err.get("message", "failed")))
        result = answer.get("result")
        if not isinstance(result, dict):
            raise UsermgrError("invalid_answer", "the usermgr helper sent no result")
        return result

    async def ping(self) -> PingResult:
        return PingResult.model_validate(await self._call({"op": "ping"}, self.timeout))

    async def provision(self, username: str) -> ProvisionResult:
        result = await self._call({"op": "provision", "username": username}, self.timeout)
        return ProvisionResult.model_validate(result)

    async def rollback(self, username: str, token: str) -> RollbackResult:
        result = await self._call(
            {"op": "rollback", "username": username, "token": token}, self.timeout
        )
        return RollbackResult.model_validate(result)
