"""`LocalUserPlane`: runs sessions as child processes of the calling process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from oqto.protocol.sessions import (
    RuntimeState,
    SessionEndpoints,
    SessionEvent,
    SessionRuntime,
    SessionSpec,
)
from oqto.userplane.base import EventHandler, SessionStartFailed, UserPlane, UserPlaneError
from oqto.userplane.process import ManagedProcess
from oqto.userplane.proctree import kill_tagged
from oqto.userplane.readiness import HttpProbe, ProcessExited, wait_until_ready
from oqto.userplane.services import ServiceSettings, SessionLayout, build_services
from oqto.userplane.workspaces import ensure_workspace, workspace_root

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LocalSettings:
    workspace_root: str  # template, `{user}` = owner
    runtime_dir: Path
    log_dir: Path
    services: ServiceSettings
    start_timeout: float
    stop_grace: float


@dataclass
class _Live:
    spec: SessionSpec
    workspace: Path
    layout: SessionLayout
    processes: list[ManagedProcess]
    probes: list[HttpProbe]
    endpoints: SessionEndpoints
    state: RuntimeState = RuntimeState.STARTING
    error: str | None = None
    stopping: bool = False
    # Seconds from spawn to first good probe, per service: where a slow start goes.
    ready_after: dict[str, float] = field(default_factory=dict)
    watchers: list[asyncio.Task[None]] = field(default_factory=list)

    def runtime(self) -> SessionRuntime:
        return SessionRuntime(
            id=self.spec.id,
            workspace=self.spec.workspace,
            workspace_path=str(self.workspace),
            state=self.state,
            error=self.error,
            endpoints=self.endpoints if self.state is RuntimeState.RUNNING else None,
            pids={p.name: p.pid for p in self.processes if p.pid is not None},
            ready_after=dict(self.ready_after),
        )


class LocalUserPlane(UserPlane):
    def __init__(self, settings: LocalSettings) -> None:
        self._settings = settings
        self._sessions: dict[str, _Live] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._handler: EventHandler | None = None
        settings.runtime_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        settings.runtime_dir.chmod(0o700)

    def set_event_handler(self, handler: EventHandler) -> None:
        self._handler = handler

    def _lock(self, session_id: str) -> asyncio.Lock:
        return self._locks.setdefault(session_id, asyncio.Lock())

    async def start_session(self, spec: SessionSpec) -> SessionRuntime:
        async with self._lock(spec.id):
            live = self._sessions.get(spec.id)
            if live is not None and live.state is RuntimeState.RUNNING:
                return live.runtime()
            if live is not None:
                await self._teardown(live)
            live = self._prepare(spec)
            self._sessions[spec.id] = live
            try:
                await self._launch(live)
            except BaseException:
                await self._teardown(live)
                self._sessions.pop(spec.id, None)
                raise
            live.state = RuntimeState.RUNNING
            log.info(
                "session running",
                extra={"session": spec.id, "ready_after": live.ready_after},
            )
            live.watchers = [
                asyncio.create_task(self._watch(live, p), name=f"watch-{spec.id}-{p.name}")
                for p in live.processes
            ]
            return live.runtime()

    def _prepare(self, spec: SessionSpec) -> _Live:
        root = workspace_root(self._settings.workspace_root, spec.owner)
        workspace = ensure_workspace(root, spec.workspace)
        runtime_dir = self._settings.runtime_dir / spec.id
        shutil.rmtree(runtime_dir, ignore_errors=True)
        runtime_dir.mkdir(mode=0o700)
        layout = SessionLayout(
            session_id=spec.id,
            workspace=workspace,
            runtime_dir=runtime_dir,
            log_dir=self._settings.log_dir / spec.id,
        )
        services, endpoints = build_services(self._settings.services, layout)
        live = _Live(
            spec=spec,
            workspace=workspace,
            layout=layout,
            processes=[ManagedProcess(s.spec) for s in services],
            probes=[s.probe for s in services],
            endpoints=endpoints,
        )
        return live

    async def _launch(self, live: _Live) -> None:
        # The three services start together: a session is as slow as opencode, not the sum.
        began = time.perf_counter()
        await asyncio.gather(*(p.start() for p in live.processes))
        exits = {p.name: asyncio.ensure_future(p.wait()) for p in live.processes}

        async def ready(process: ManagedProcess, probe: HttpProbe) -> None:
            try:
                await wait_until_ready(probe, exits[process.name])
            except ProcessExited as exc:
                raise self._failure(process, str(exc)) from None
            live.ready_after[process.name] = round(time.perf_counter() - began, 3)

        try:
            async with asyncio.timeout(self._settings.start_timeout):
                await asyncio.gather(
                    *(ready(p, probe) for p, probe in zip(live.processes, live.probes, strict=True))
                )
        except TimeoutError:
            slow = [p for p in live.processes if exits[p.name].done() is False]
            culprit = slow[0] if slow else live.processes[0]
            raise self._failure(
                culprit, f"did not answer within {self._settings.start_timeout:g} s"
            ) from None
        finally:
            for fut in exits.values():
                fut.cancel()

    @staticmethod
    def _failure(process: ManagedProcess, reason: str) -> SessionStartFailed:
        tail = process.log_tail()
        message = f"{process.name} ({Path(process.spec.argv[0]).name}) {reason}"
        if tail:
            message += f"\n--- last lines of {process.spec.log_path} ---\n{tail}"
        return SessionStartFailed(message)

    async def _watch(self, live: _Live, process: ManagedProcess) -> None:
        code = await process.wait()
        if live.stopping:
            return
        live.state = RuntimeState.FAILED
        live.error = self._failure(process, f"exited unexpectedly with status {code}").message
        log.warning(
            "session service died session=%s service=%s status=%s", live.spec.id, process.name, code
        )
        async with self._lock(live.spec.id):
            await self._teardown(live, cancel_watchers=False)
        if self._handler is not None:
            await self._handler(
                SessionEvent(session_id=live.spec.id, state=live.state, error=live.error)
            )

    async def _teardown(self, live: _Live, cancel_watchers: bool = True) -> None:
        live.stopping = True
        if cancel_watchers:
            current = asyncio.current_task()
            for task in live.watchers:
                if task is not current:
                    task.cancel()
        await asyncio.gather(*(p.stop(self._settings.stop_grace) for p in live.processes))
        kill_tagged(live.spec.id)
        shutil.rmtree(live.layout.runtime_dir, ignore_errors=True)

    async def stop_session(self, session_id: str) -> None:
        async with self._lock(session_id):
            live = self._sessions.pop(session_id, None)
            if live is None:
                return
            await self._teardown(live)
            live.state = RuntimeState.STOPPED

    async def get_session(self, session_id: str) -> SessionRuntime | None:
        live = self._sessions.get(session_id)
        return live.runtime() if live else None

    async def list_sessions(self) -> list[SessionRuntime]:
        return [live.runtime() for live in self._sessions.values()]

    async def close(self) -> None:
        with contextlib.suppress(UserPlaneError):
            await asyncio.gather(*(self.stop_session(sid) for sid in list(self._sessions)))
