"""`LocalUserPlane`: runs sessions as child processes of the calling process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import shutil
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

from oqto.httpclient import UpstreamError, UpstreamPool, basic_authorization, fetch
from oqto.osutil.sockowner import loopback_listen_ports
from oqto.protocol.errors import ErrorCode
from oqto.protocol.sessions import (
    RuntimeState,
    SandboxReport,
    ServiceName,
    ServicePhase,
    ServiceProgress,
    SessionEvent,
    SessionRuntime,
    SessionSpec,
)
from oqto.sandbox import limits as cgroup_limits
from oqto.sandbox.egress import EgressProxy
from oqto.sockclient import OpenerError, open_verified
from oqto.userplane.base import EventHandler, SessionStartFailed, UserPlane, UserPlaneError
from oqto.userplane.confinement import SandboxSettings, SessionSandbox, plan_sandbox
from oqto.userplane.process import ManagedProcess, ProcessSpec
from oqto.userplane.proctree import descendants, kill_descendants, kill_tagged, orphan_sessions
from oqto.userplane.readiness import ProcessExited, wait_until_ready
from oqto.userplane.services import (
    LOOPBACK,
    ServiceSettings,
    SessionEndpoints,
    SessionLayout,
    build_services,
)
from oqto.userplane.statefile import ProcessRecord, SessionRecord, StateStore
from oqto.userplane.workspaces import ensure_workspace, workspace_root

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LocalSettings:
    workspace_root: str  # template, `{user}` = owner
    runtime_dir: Path
    log_dir: Path
    services: ServiceSettings
    sandbox: SandboxSettings
    start_timeout: float
    stop_grace: float
    # Runner mode: session records survive restarts here.
    state_dir: Path | None = None
    # Sessions whose services died stay listed, with the reason, until stopped; past this
    # many the oldest are forgotten, so a user whose services keep dying cannot grow the
    # runner (or its session.list past one protocol frame) without bound.
    failed_kept: int = 32


@dataclass
class _Live:
    spec: SessionSpec
    workspace: Path
    layout: SessionLayout
    processes: list[ManagedProcess]
    probe_paths: list[str]
    endpoints: SessionEndpoints
    sandbox: SandboxReport
    state: RuntimeState = RuntimeState.STARTING
    error: str | None = None
    stopping: bool = False
    torn_down: bool = False
    # The session's allow-list proxy (network allowlist), and whether its services run in
    # a cgroup slice of their own that a teardown removes.
    egress: EgressProxy | None = None
    allow_hosts: tuple[str, ...] | None = None
    limited: bool = False
    plan: SessionSandbox | None = None  # None for a session adopted after a restart
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
            agent_auth=self.endpoints.agent if self.state is RuntimeState.RUNNING else None,
            pids={p.name: p.pid for p in self.processes if p.pid is not None},
            ready_after=dict(self.ready_after),
            sandbox=self.sandbox,
        )


class LocalUserPlane(UserPlane):
    def __init__(self, settings: LocalSettings) -> None:
        self._settings = settings
        self._sessions: dict[str, _Live] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._handler: EventHandler | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._store = StateStore(settings.state_dir) if settings.state_dir else None
        # Starts in progress, so that a stop can overtake one (see stop_session).
        self._starting: dict[str, asyncio.Task[object]] = {}
        self._stop_requested: set[str] = set()
        self._instance = self._instance_id()
        # Checked (a real directory, ours, 0700) by whoever chose it: never chmod by path.
        settings.runtime_dir.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _instance_id(self) -> str:
        """Names this user plane in its processes' environment, so that an orphan sweep
        never touches another instance's sessions. A runner keeps its id across restarts
        (its state directory), because it re-adopts its sessions; single-user servers get
        a fresh one each run."""
        if self._store is None:
            return secrets.token_hex(8)
        path = self._store.directory / "instance"
        with contextlib.suppress(OSError):
            text = path.read_text().strip()
            if text:
                return text
        self._store.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        instance = secrets.token_hex(8)
        path.write_text(instance + "\n")
        return instance

    def set_event_handler(self, handler: EventHandler) -> None:
        self._handler = handler

    def _lock(self, session_id: str) -> asyncio.Lock:
        return self._locks.setdefault(session_id, asyncio.Lock())

    async def start_session(self, spec: SessionSpec) -> SessionRuntime:
        task = asyncio.current_task()
        assert task is not None
        self._starting[spec.id] = task
        try:
            async with self._lock(spec.id):
                return await self._start_locked(spec)
        except asyncio.CancelledError:
            # A stop overtook this start (stop_session cancelled us): the start has been
            # torn down; answer with an error rather than vanish, so a runner still
            # replies to the request.
            if spec.id not in self._stop_requested:
                raise
            task.uncancel()
            raise UserPlaneError(
                ErrorCode.START_CANCELLED, "the session was stopped while starting"
            ) from None
        finally:
            if self._starting.get(spec.id) is task:
                del self._starting[spec.id]
                self._stop_requested.discard(spec.id)

    async def _start_locked(self, spec: SessionSpec) -> SessionRuntime:
        live = self._sessions.get(spec.id)
        if live is not None and live.state is RuntimeState.RUNNING:
            return live.runtime()
        if live is not None:
            await self._teardown(live)
        live = self._prepare(spec)
        self._sessions[spec.id] = live
        try:
            await self._launch(live)
            # Running only once it is recorded: a session a restarted runner could not
            # find again would be running unwatched.
            self._persist(live)
        except BaseException:
            await self._teardown(live)
            self._sessions.pop(spec.id, None)
            raise
        live.state = RuntimeState.RUNNING
        self._warm_up(live)
        log.info("session running", extra={"session": spec.id, "ready_after": live.ready_after})
        self._start_watching(live)
        return live.runtime()

    # -- connections to a session's services -------------------------------------------

    async def _open(self, live: _Live, service: ServiceName) -> socket.socket:
        """A connection to one of the session's services, proven to be served by this
        account before anything is sent on it."""
        endpoints = live.endpoints
        if service is ServiceName.FILES:
            return await open_verified(endpoints.files_socket, os.getuid())
        if service is ServiceName.TERMINAL:
            return await open_verified(endpoints.terminal_socket, os.getuid())
        if endpoints.agent_socket is not None:
            return await open_verified(endpoints.agent_socket, os.getuid())
        port = endpoints.agent_port
        if port is None:
            port = self._discover_agent_port(live)
        return await open_verified((LOOPBACK, port), os.getuid())

    @staticmethod
    def _discover_agent_port(live: _Live) -> int:
        """opencode chose its port itself (`--port 0`); read it off the listening socket
        that its own process holds, never off its log, which anything could write."""
        agent = next(p for p in live.processes if p.name == ServiceName.AGENT)
        # Sandboxed, the listener is held by opencode below bubblewrap, not by the pid
        # we started.
        holders = {agent.pid, *descendants({agent.pid})} if agent.pid is not None else set()
        ports = sorted({port for pid in holders for port in loopback_listen_ports(pid)})
        if len(ports) != 1:
            raise OpenerError("opencode is not listening yet", ErrorCode.UPSTREAM_UNAVAILABLE)
        live.endpoints = live.endpoints.model_copy(update={"agent_port": ports[0]})
        return ports[0]

    def _pool(self, live: _Live, service: ServiceName) -> UpstreamPool:
        """Connections of our own to a service (readiness, warm-up); the caller closes it."""
        authorization = None
        if service is ServiceName.AGENT:
            agent = live.endpoints.agent
            authorization = basic_authorization(agent.username, agent.password)

        async def opener() -> socket.socket:
            return await self._open(live, service)

        return UpstreamPool(opener, service.value.encode(), authorization)

    async def connect_service(self, session_id: str, service: ServiceName) -> socket.socket:
        live = self._sessions.get(session_id)
        if live is None or live.state is not RuntimeState.RUNNING:
            raise UserPlaneError(ErrorCode.SESSION_NOT_RUNNING, "the session is not running")
        try:
            return await self._open(live, service)
        except OpenerError as exc:
            raise UserPlaneError(exc.code, exc.message) from None
        except OSError as exc:
            raise UserPlaneError(
                ErrorCode.UPSTREAM_UNAVAILABLE,
                f"cannot connect to the {service.value} service: {exc}",
            ) from None

    def _warm_up(self, live: _Live) -> None:
        """opencode builds its per-directory instance on the first request that names one
        (measured: the first prompt took 3.2 s, later ones 0.3-0.45 s). Ask for the
        session list once now, in the background, so the person's first prompt does not
        pay for that."""

        async def warm() -> None:
            pool = self._pool(live, ServiceName.AGENT)
            try:
                with contextlib.suppress(UpstreamError, TimeoutError, OSError):
                    async with asyncio.timeout(60):
                        await fetch(pool, "/session")
            finally:
                pool.close()

        task = asyncio.create_task(warm())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _start_watching(self, live: _Live) -> None:
        live.watchers = [
            asyncio.create_task(self._watch(live, p), name=f"watch-{live.spec.id}-{p.name}")
            for p in live.processes
        ]

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
                sandbox=live.sandbox,
                allow_hosts=list(live.allow_hosts) if live.allow_hosts is not None else None,
                limited=live.limited,
            )
        )

    def _prepare(self, spec: SessionSpec) -> _Live:
        root = workspace_root(self._settings.workspace_root, spec.owner)
        workspace = ensure_workspace(root, spec.workspace)
        sandbox = plan_sandbox(
            self._settings.sandbox,
            home=Path.home(),
            workspace=workspace,
            workspace_root=root,
            session_id=spec.id,
        )
        runtime_dir = self._settings.runtime_dir / spec.id
        shutil.rmtree(runtime_dir, ignore_errors=True)
        runtime_dir.mkdir(mode=0o700)
        layout = SessionLayout(
            session_id=spec.id,
            workspace=workspace,
            runtime_dir=runtime_dir,
            log_dir=self._settings.log_dir / spec.id,
        )
        layout.make_dirs()
        services, endpoints = build_services(
            self._settings.services, layout, self._instance, sandbox
        )
        return _Live(
            spec=spec,
            workspace=workspace,
            layout=layout,
            processes=[ManagedProcess(s.spec) for s in services],
            probe_paths=[s.probe_path for s in services],
            endpoints=endpoints,
            sandbox=sandbox.report(),
            allow_hosts=sandbox.policy.allow_hosts if sandbox.egress else None,
            limited=sandbox.limited,
            plan=sandbox,
        )

    async def _open_egress(self, live: _Live) -> None:
        """The allow-list proxy runs here, outside the sandbox, for as long as the
        session's services do (a restarted runner opens it again for adopted sessions)."""
        if live.allow_hosts is None:
            return
        live.egress = EgressProxy(
            live.layout.egress_socket, live.allow_hosts, session_id=live.spec.id
        )
        await live.egress.start()

    async def _launch(self, live: _Live) -> None:
        # The three services start together: a session is as slow as opencode, not the sum.
        began = time.perf_counter()
        if live.plan is not None:
            await live.plan.apply_limits()
        await self._open_egress(live)

        async def spawn(process: ManagedProcess) -> None:
            await process.start()
            await self._progress(live, process, ServicePhase.STARTED)

        await asyncio.gather(*(spawn(p) for p in live.processes))
        exits = {p.name: asyncio.ensure_future(p.wait()) for p in live.processes}

        async def ready(process: ManagedProcess, path: str) -> None:
            pool = self._pool(live, ServiceName(process.name))
            try:
                await wait_until_ready(pool, path, exits[process.name])
            except ProcessExited as exc:
                await self._progress(live, process, ServicePhase.FAILED)
                raise self._failure(process, str(exc)) from None
            finally:
                pool.close()
            seconds = round(time.perf_counter() - began, 3)
            live.ready_after[process.name] = seconds
            await self._progress(live, process, ServicePhase.READY, seconds)

        try:
            async with asyncio.timeout(self._settings.start_timeout):
                await asyncio.gather(
                    *(
                        ready(p, path)
                        for p, path in zip(live.processes, live.probe_paths, strict=True)
                    )
                )
        except TimeoutError:
            slow = [p for p in live.processes if p.name not in live.ready_after]
            culprit = slow[0] if slow else live.processes[0]
            await self._progress(live, culprit, ServicePhase.FAILED)
            raise self._failure(
                culprit, f"did not answer within {self._settings.start_timeout:g} s"
            ) from None
        finally:
            for fut in exits.values():
                fut.cancel()

    async def _progress(
        self,
        live: _Live,
        process: ManagedProcess,
        phase: ServicePhase,
        ready_after: float | None = None,
    ) -> None:
        """Tell whoever listens how far one service of a start got; a listener's failure
        must not fail the start."""
        if self._handler is None:
            return
        progress = ServiceProgress(
            service=ServiceName(process.name), phase=phase, ready_after=ready_after
        )
        event = SessionEvent(
            session_id=live.spec.id, state=RuntimeState.STARTING, progress=progress
        )
        try:
            await self._handler(event)
        except Exception:
            log.exception("reporting start progress of session %s failed", live.spec.id)

    @staticmethod
    def _failure(process: ManagedProcess, reason: str) -> SessionStartFailed:
        tail = process.log_tail()
        message = f"{process.name} ({process.spec.label}) {reason}"
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
        self._forget_old_failures()
        if self._handler is not None:
            await self._handler(
                SessionEvent(session_id=live.spec.id, state=live.state, error=live.error)
            )

    def _forget_old_failures(self) -> None:
        # Only records whose teardown is over: forgetting one mid-teardown would leave its
        # processes dying with nothing (not even close()) waiting for them. A teardown
        # still under way calls this itself when it ends.
        failed = [
            sid
            for sid, live in self._sessions.items()
            if live.state is RuntimeState.FAILED and live.torn_down
        ]
        for sid in failed[: max(0, len(failed) - self._settings.failed_kept)]:
            del self._sessions[sid]

    async def _teardown(self, live: _Live, cancel_watchers: bool = True) -> None:
        live.stopping = True
        if cancel_watchers:
            current = asyncio.current_task()
            for task in live.watchers:
                if task is not current:
                    task.cancel()
        # First everything the services started, while the services (subreapers) still
        # live to keep hold of it; then the services' process groups; then whatever
        # still carries the session's tag.
        leaders = {p.pid for p in live.processes if p.pid is not None and p.alive()}
        kill_descendants(leaders)
        await asyncio.gather(*(p.stop(self._settings.stop_grace) for p in live.processes))
        kill_tagged(live.spec.id)
        if live.egress is not None:
            await live.egress.close()
        if live.limited:
            await cgroup_limits.cleanup(live.spec.id)
        shutil.rmtree(live.layout.runtime_dir, ignore_errors=True)
        if self._store is not None:
            self._store.remove(live.spec.id)
        live.torn_down = True

    async def stop_session(self, session_id: str) -> None:
        # A stop overtakes a start in progress instead of queueing behind it (a start may
        # take minutes): cancelling it tears down what it had started.
        starting = self._starting.get(session_id)
        if starting is not None:
            self._stop_requested.add(session_id)
            starting.cancel()
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
                probe_paths=[],
                endpoints=record.endpoints,
                ready_after=record.ready_after,
                sandbox=record.sandbox or SandboxReport(enabled=False),
                allow_hosts=tuple(record.allow_hosts) if record.allow_hosts is not None else None,
                limited=record.limited,
            )
            if all(p is not None for p in processes):
                await self._open_egress(live)
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
        for session_id in orphan_sessions(known, self._instance):
            log.warning("killing orphaned processes of unknown session %s", session_id)
            kill_tagged(session_id)
        return adopted, dropped
