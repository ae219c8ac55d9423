"""One supervised service process: its own process group, its log file, a clean stop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path

from oqto.userplane.proctree import signal_group

LOG_TAIL_BYTES = 4000


@dataclass
class ProcessSpec:
    name: str
    argv: list[str]
    cwd: Path
    env: dict[str, str]
    log_path: Path
    extra: dict[str, str] = field(default_factory=dict)


class ManagedProcess:
    def __init__(self, spec: ProcessSpec) -> None:
        self.spec = spec
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def returncode(self) -> int | None:
        return self._proc.returncode if self._proc else None

    async def start(self) -> None:
        self.spec.log_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self.spec.log_path.open("ab") as log:
            # start_new_session: the service leads its own process group (and session), so
            # one killpg reaches everything it forks, and it does not share our terminal.
            self._proc = await asyncio.create_subprocess_exec(
                *self.spec.argv,
                cwd=self.spec.cwd,
                env=self.spec.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )

    async def wait(self) -> int:
        assert self._proc is not None, "wait() before start()"
        return await self._proc.wait()

    async def stop(self, grace: float) -> None:
        """TERM the whole group, KILL it after `grace` seconds, and reap the leader."""
        proc = self._proc
        if proc is None:
            return
        pgid = proc.pid  # leader of its own group, see start()
        signal_group(pgid, signal.SIGTERM)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), grace)
        # Members of the group may outlive the leader; KILL is a no-op for an empty group.
        signal_group(pgid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            await proc.wait()

    def log_tail(self, max_bytes: int = LOG_TAIL_BYTES) -> str:
        try:
            with self.spec.log_path.open("rb") as log:
                log.seek(0, os.SEEK_END)
                size = log.tell()
                log.seek(max(0, size - max_bytes))
                data = log.read()
        except OSError:
            return ""
        return data.decode("utf-8", "replace").strip()
