"""One supervised service process: its own process group, its log file, a clean stop.

A process is either spawned here (our child) or adopted after a restart of the user plane
(no longer our child): then it is identified by pid *and* start time, watched through a
pidfd, and signalled only after checking that the pid still names the same process.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from dataclasses import dataclass
from pathlib import Path

from oqto.userplane.proctree import become_subreaper, process_start_time, signal_group

LOG_TAIL_BYTES = 4000


@dataclass
class ProcessSpec:
    name: str
    argv: list[str]
    cwd: Path
    env: dict[str, str]
    log_path: Path
    # What the service is, for messages: argv[0] is the sandbox's wrapper when confined.
    program: str = ""

    @property
    def label(self) -> str:
        return Path(self.program or self.argv[0]).name


async def wait_pid_exit(pid: int) -> None:
    """Wait for a process that is not our child to exit (a pidfd turns readable)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    loop = asyncio.get_running_loop()
    exited: asyncio.Future[None] = loop.create_future()

    def on_readable() -> None:
        if not exited.done():
            exited.set_result(None)

    loop.add_reader(fd, on_readable)
    try:
        await exited
    finally:
        loop.remove_reader(fd)
        os.close(fd)


class ManagedProcess:
    def __init__(self, spec: ProcessSpec) -> None:
        self.spec = spec
        self._proc: asyncio.subprocess.Process | None = None
        self._adopted: tuple[int, int] | None = None  # (pid, start time)

    @classmethod
    def adopt(cls, spec: ProcessSpec, pid: int, start_time: int) -> ManagedProcess | None:
        """Take over a process a previous incarnation started; None if it is gone or the
        pid now names another process."""
        if process_start_time(pid) != start_time:
            return None
        process = cls(spec)
        process._adopted = (pid, start_time)
        return process

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def pid(self) -> int | None:
        if self._proc is not None:
            return self._proc.pid
        return self._adopted[0] if self._adopted else None

    @property
    def start_time(self) -> int | None:
        if self._adopted is not None:
            return self._adopted[1]
        return process_start_time(self._proc.pid) if self._proc else None

    def alive(self) -> bool:
        if self._proc is not None:
            return self._proc.returncode is None
        if self._adopted is not None:
            return process_start_time(self._adopted[0]) == self._adopted[1]
        return False

    async def start(self) -> None:
        self.spec.log_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self.spec.log_path.open("ab") as log:
            # start_new_session: the service leads its own process group (and session), so
            # one killpg reaches everything it forks, and it does not share our terminal.
            # As a subreaper it also keeps whatever its children daemonise (proctree).
            self._proc = await asyncio.create_subprocess_exec(
                *self.spec.argv,
                cwd=self.spec.cwd,
                env=self.spec.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=become_subreaper,
            )

    async def wait(self) -> int | None:
        """The exit status, or None for an adopted process (only its parent could know)."""
        if self._proc is not None:
            return await self._proc.wait()
        if self._adopted is not None:
            await wait_pid_exit(self._adopted[0])
        return None

    async def stop(self, grace: float) -> None:
        """TERM the whole group, KILL it after `grace` seconds, and reap the leader."""
        pgid = self.pid
        if pgid is None or (self._adopted is not None and not self.alive()):
            return
        signal_group(pgid, signal.SIGTERM)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wait(), grace)
        # Members of the group may outlive the leader; KILL is a no-op for an empty group.
        # An adopted leader's pid could have been reused once it exited: only a group
        # whose leader is still ours is signalled again.
        if self._proc is not None or self.alive():
            signal_group(pgid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            await self.wait()

    def log_tail(self, max_bytes: int = LOG_TAIL_BYTES) -> str:
        return file_tail(self.spec.log_path, max_bytes)


def file_tail(path: Path, max_bytes: int) -> str:
    """The last `max_bytes` of a log file, as text; "" if it cannot be read."""
    try:
        with path.open("rb") as log:
            log.seek(0, os.SEEK_END)
            log.seek(max(0, log.tell() - max_bytes))
            data = log.read()
    except OSError:
        return ""
    return data.decode("utf-8", "replace").strip()
