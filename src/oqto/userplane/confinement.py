"""One session's confinement, decided once at start: the effective policy (the admin's
file with the user's and the workspace's tighten-only overlays), the checks that it can
be enforced here, and how each service's command and environment change under it.

Fail closed: anything that stops the policy from being read or enforced raises
`SandboxRefused`, and the session does not start. Only `enabled = false` in the admin's
file runs services unconfined, and the session's report says so.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from oqto.protocol.sessions import SandboxReport, ServiceName
from oqto.sandbox import limits as cgroup_limits
from oqto.sandbox import preflight
from oqto.sandbox.bwrap import SandboxContext, build_argv
from oqto.sandbox.loader import resolve_policy
from oqto.sandbox.policy import NetworkMode, SandboxPolicy, SandboxRefused

# Inside a private network namespace nothing else listens, so fixed ports cannot clash.
AGENT_PORT_INSIDE = 4096
EGRESS_PORT_INSIDE = 3128
_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


@dataclass(frozen=True)
class SandboxSettings:
    admin_file: Path
    bwrap: str
    # Oqto's own state (data dir, runtime root with every session's sockets, runner
    # state, logs): hidden from every session, whatever the policy says.
    private_dirs: tuple[Path, ...]
    # allow_hosts when the profile names none: the model providers' API hosts.
    default_allow_hosts: tuple[str, ...]
    # Where other accounts' homes live: hidden, the owner's own home excepted.
    home_roots: tuple[Path, ...] = (Path("/home"), Path("/root"))
    # Runner mode: sessions outlive the user plane's process (it re-adopts them).
    sessions_outlive_us: bool = False


@dataclass(frozen=True)
class ServiceDirs:
    """The per-service runtime subdirectories a sandbox may see (its socket lives there)."""

    own: Path
    egress: Path


@dataclass(frozen=True)
class SessionSandbox:
    policy: SandboxPolicy
    settings: SandboxSettings
    home: Path
    workspace: Path
    workspace_root: Path
    session_id: str
    limits_unenforced: str | None  # why configured limits are not in force

    @property
    def agent_in_namespace(self) -> bool:
        """opencode listens inside its own network namespace, reached via a Unix socket."""
        return self.policy.enabled and self.policy.network is not NetworkMode.HOST

    @property
    def egress(self) -> bool:
        return self.policy.enabled and self.policy.network is NetworkMode.ALLOWLIST

    async def apply_limits(self) -> None:
        """Set the session's (and the user's) cgroup limits: before the first service."""
        if self.limited:
            await cgroup_limits.apply(
                self.session_id, self.policy.limits, self.policy.user_memory_max
            )

    @property
    def limited(self) -> bool:
        wanted = self.policy.limits.any or self.policy.user_memory_max is not None
        return self.policy.enabled and wanted and self.limits_unenforced is None

    def report(self) -> SandboxReport:
        policy = self.policy
        if not policy.enabled:
            return SandboxReport(enabled=False)
        limits = policy.limits if self.limited else None
        return SandboxReport(
            enabled=True,
            profile=policy.profile,
            network=policy.network.value,
            pid_namespace=policy.pid_namespace,
            memory_max=limits.memory_max if limits else None,
            tasks_max=limits.tasks_max if limits else None,
            cpu_weight=limits.cpu_weight if limits else None,
            limits_unenforced=self.limits_unenforced,
        )

    def command(
        self,
        service: ServiceName,
        argv: list[str],
        env: dict[str, str],
        dirs: ServiceDirs,
        *,
        agent_socket: Path | None = None,
        egress_socket: Path | None = None,
        readable: tuple[Path, ...] = (),
    ) -> tuple[list[str], dict[str, str]]:
        """`argv`/`env` as this service runs under the policy: bubblewrap, then the
        in-sandbox init (seccomp, and the relays across the network namespace).
        `readable`: files the service is configured to read (the opencode config), bound
        read-only in case they live where the sandbox shows nothing (a private /tmp)."""
        if not self.policy.enabled:
            return argv, env
        uses_egress = self.egress and service is not ServiceName.FILES
        own_dirs = (dirs.own, dirs.egress) if uses_egress else (dirs.own,)
        init = [sys.executable, "-m", "oqto.sandbox.init"]
        if service is ServiceName.AGENT and self.agent_in_namespace and agent_socket:
            init += ["--agent-socket", str(agent_socket), "--agent-port", str(AGENT_PORT_INSIDE)]
        env = dict(env)
        if uses_egress and egress_socket is not None:
            init += ["--egress-socket", str(egress_socket)]
            init += ["--egress-port", str(EGRESS_PORT_INSIDE)]
            proxy = f"http://127.0.0.1:{EGRESS_PORT_INSIDE}"
            for var in _PROXY_VARS:
                env[var] = env[var.lower()] = proxy
            env["NO_PROXY"] = env["no_proxy"] = ""
        policy = self.policy
        if readable:
            policy = policy.model_copy(update={"extra_ro_bind": (*policy.extra_ro_bind, *readable)})
        if service is ServiceName.FILES and policy.network is not NetworkMode.NONE:
            # The file server needs no network at all, whatever the others get.
            policy = policy.model_copy(update={"network": NetworkMode.NONE})
        context = SandboxContext(
            home=self.home,
            workspace=self.workspace,
            service=service,
            own_dirs=own_dirs,
            # The owner's other workspaces too: a session sees its own workspace only.
            hidden=(*self.settings.private_dirs, self.workspace_root),
            protected=(
                self.settings.admin_file,
                self.home / ".config" / "oqto",
                self.workspace / ".oqto",
            ),
            home_roots=self.settings.home_roots,
            outlives_parent=self.settings.sessions_outlive_us,
        )
        wrapped = [*build_argv(self.settings.bwrap, policy, context), *init, "--", *argv]
        if self.limited:
            wrapped = cgroup_limits.wrap(wrapped, session_id=self.session_id, service=service.value)
        return wrapped, env


def plan_sandbox(
    settings: SandboxSettings,
    *,
    home: Path,
    workspace: Path,
    workspace_root: Path,
    session_id: str,
) -> SessionSandbox:
    """Resolve and check one session's confinement; `SandboxRefused` if it cannot hold."""
    resolved = resolve_policy(
        settings.admin_file,
        home=home,
        workspace=workspace,
        default_allow_hosts=settings.default_allow_hosts,
        always_hidden=settings.private_dirs,
    )
    policy = resolved.policy
    unenforced = None
    if policy.enabled:
        preflight.check(settings.bwrap)
        if policy.limits.any or policy.user_memory_max is not None:
            found = cgroup_limits.support()
            unenforced = None if found.available else found.reason
            if unenforced is not None and policy.limits.required:
                raise SandboxRefused(
                    f"profile {policy.profile!r} requires resource limits, which cannot be "
                    f"enforced here: {unenforced}"
                )
    return SessionSandbox(
        policy=policy,
        settings=settings,
        home=home,
        workspace=workspace,
        workspace_root=workspace_root,
        session_id=session_id,
        limits_unenforced=unenforced,
    )


def hidden_dirs(*dirs: Path | None) -> tuple[Path, ...]:
    """The private dirs that exist or may come to exist, de-duplicated, absolute."""
    seen: list[Path] = []
    for directory in dirs:
        if directory is not None:
            resolved = directory.expanduser().absolute()
            if resolved not in seen:
                seen.append(resolved)
    return tuple(seen)
