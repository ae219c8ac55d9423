"""`LocalUserPlane`: runs sessions as child processes of the calling process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from oqto.osutil import acl
from oqto.protocol.sessions import (
    RuntimeState,
    SessionEndpoints,
    SessionEvent,
    SessionRuntime,
    SessionSpec,
)
from oqto.userplane.base import EventHandler, SessionStartFailed, UserPlane, UserPlaneError
from oqto.userplane.process import ManagedProcess, ProcessSpec, file_tail
from oqto.userplane.proctree import kill_tagged, orphan_sessions
from oqto.userplane.readiness import HttpProbe, ProcessExited, wait_until_ready
from oqto.userplane.services import ServiceSettings, SessionLayout, build_services
from oqto.userplane.statefile import ProcessRecord, SessionRecord, StateStore
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
    # Runner mode: session records survive restarts here, and this account (the control
    # plane's) is granted access to the session sockets by ACL.
    state_dir: Path | None = None
    grant_uid: int | None = None


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
        self._background: set[asyncio.Task[None]] = set()
        self._store = StateStore(settings.state_dir) if settings.state_dir else None
        settings.runtime_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        settings.runtime_dir.chmod(0o700)
        if settings.grant_uid is not None:
            acl.grant_user(settings.runtime_dir, settings.grant_uid, "x")

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
            self._persist(live)
            self._warm_up(live)
            log.info(
                "session running",
                extra={"session": spec.id, "ready_after": live.ready_after},
            )
            self._start_watching(live)
            return live.runtime()

    def _warm_up(self, live: _Live) -> None:
        """opencode builds its per-directory instance on the first request that names one
        (measured: the first prompt took 3.2 s, later ones 0.3-0.45 s). Ask for the
        session list once now, in the background, so the person's first prompt does not
        pay for that."""
        agent = live.endpoints.agent

        async def warm() -> None:
            with contextlib.suppress(httpx.HTTPError, OSError):
                async with httpx.AsyncClient(timeout=60) as client:
                    await client.get(
                        f"http://{agent.host}:{agent.port}/session",
                        auth=(agent.username, agent.password),
                    )

        task = asyncio.create_task(warm())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _start_watching(self, live: _Live) -> None:
        live.watchers = [
            asyncio.create_task(self._watch(live, p), name=f"watch-{live.spec.id}-{p.name}")
            for p in live.processes
        ]

    def _grant(self, live: _Live) -> None:
        uid = self._settings.grant_uid
        if uid is None:
            return
        acl.grant_user(live.layout.runtime_dir, uid, "x")
        for socket_path in (live.layout.files_socket, live.layout.terminal_socket):
            acl.grant_user(socket_path, uid, "rw")

    def _persist(self, live: _Live) -> None:
        if self._store is None:
            return
        records = []
        for process in live.processes:
            pid, started = process.pid, process.start_time
            if pid is None or started is None:
                raise SessionStartFailed(f"{process.name} vanished right after it was ready")
            records.append(
                ProcessRecord(
                    name=process.name,
                    pid=pid,
                    start_time=started,
                    argv=process.spec.argv,
                    log_path=str(process.spec.log_path),
                )
            )
        self._store.save(
            SessionRecord(
                spec=live.spec,
                workspace=str(live.workspace),
                runtime_dir=str(live.layout.runtime_dir),
                log_dir=str(live.layout.log_dir),
                endpoints=live.endpoints,
                processes=records,
                ready_after=live.ready_after,
            )
        )

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
        self._grant(live)

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
        if self._store is not None:
            self._store.remove(live.spec.id)

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

    def service_log(self, session_id: str, service: str, max_bytes: int) -> str | None:
        """The tail of a service's log, also for a session that has stopped."""
        path = self._settings.log_dir / session_id / f"{service}.log"
        if not path.is_file():
            return None
        return file_tail(path, max_bytes)

    async def list_sessions(self) -> list[SessionRuntime]:
        return [live.runtime() for live in self._sessions.values()]

    async def _cancel_background(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    async def close(self) -> None:
        """Stop every session (single-user mode: sessions do not outlive the server)."""
        await self._cancel_background()
        with contextlib.suppress(UserPlaneError):
            await asyncio.gather(*(self.stop_session(sid) for sid in list(self._sessions)))

    async def detach(self) -> None:
        """Stop watching but leave every session running (runner mode: a runner restart
        must not take sessions down; the next runner re-adopts them)."""
        await self._cancel_background()
        for live in self._sessions.values():
            live.stopping = True
            for task in live.watchers:
                task.cancel()
        await asyncio.gather(
            *(t for live in self._sessions.values() for t in live.watchers),
            return_exceptions=True,
        )
        self._sessions.clear()

    async def adopt(self) -> tuple[list[str], list[str]]:
        """Re-adopt sessions from the state directory after a restart. A session whose
        processes all still run (same pid and start time) is running again; any other is
        torn down and forgotten. Returns (adopted ids, dropped ids)."""
        if self._store is None:
            return [], []
        adopted, dropped = [], []
        for record in self._store.load_all():
            processes = [
                ManagedProcess.adopt(
                    ProcessSpec(
                        name=p.name,
                        argv=p.argv,
                        cwd=Path(record.workspace),
                        env={},
                        log_path=Path(p.log_path),
                    ),
                    p.pid,
                    p.start_time,
                )
                for p in record.processes
            ]
            live = _Live(
                spec=record.spec,
                workspace=Path(record.workspace),
                layout=SessionLayout(
                    session_id=record.spec.id,
                    workspace=Path(record.workspace),
                    runtime_dir=Path(record.runtime_dir),
                    log_dir=Path(record.log_dir),
                ),
                processes=[p for p in processes if p is not None],
                probes=[],
                endpoints=record.endpoints,
                ready_after=record.ready_after,
            )
            if all(p is not None for p in processes):
                live.state = RuntimeState.RUNNING
                self._sessions[record.spec.id] = live
                self._start_watching(live)
                adopted.append(record.spec.id)
            else:
                log.warning("session %s lost a process while we were away", record.spec.id)
                await self._teardown(live)
                dropped.append(record.spec.id)
        # Anything still tagged with a session we do not know is an orphan of an earlier
        # incarnation (e.g. its record was never written): nothing will ever stop it.
        known = set(self._sessions)
        for session_id in orphan_sessions(known):
            log.warning("killing orphaned processes of unknown session %s", session_id)
            kill_tagged(session_id)
        return adopted, dropped
