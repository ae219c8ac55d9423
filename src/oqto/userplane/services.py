"""The only place that decides what a session runs: opencode, oqto-files and ttyd, with
arguments built here from validated settings, never from a request. Each command is then
wrapped by the session's sandbox (`oqto.userplane.confinement`): bubblewrap, the
in-sandbox init, and cgroup limits where they can be enforced.

ttyd and oqto-files listen on Unix sockets, each in its own 0700 subdirectory of the
session's 0700 runtime directory: the directories' permissions are the access rule. ttyd
gets no `--credential`, because its argv (and so the credential) is readable by every
local account through /proc. opencode can only listen on TCP, so it gets a random
per-session password, passed in its environment, which only its own account can read.
Sandboxed with its own network namespace, it listens on a fixed port inside it, and the
init relays a Unix socket in the agent's subdirectory to that port: no session service
has a port on the host. With the host's network it is started with `--port 0` and binds a
port itself (4096 if free, else a random one): there is no window between choosing a port
and binding it in which another account could take it; the user plane then reads the port
off the listening socket that opencode's own process (or a descendant of the sandbox)
holds."""

from __future__ import annotations

import logging
import os
import pwd
import secrets
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from oqto.protocol.errors import ErrorCode
from oqto.protocol.sessions import AgentAuth, ServiceName
from oqto.userplane import terminal_attach
from oqto.userplane.base import UserPlaneError
from oqto.userplane.confinement import AGENT_PORT_INSIDE, ServiceDirs, SessionSandbox
from oqto.userplane.process import ProcessSpec
from oqto.userplane.proctree import INSTANCE_ENV, SESSION_ENV

log = logging.getLogger(__name__)

AGENT_USER = "opencode"
LOOPBACK = "127.0.0.1"
# sockaddr_un.sun_path is 108 bytes including the terminating NUL.
MAX_SOCKET_PATH = 107


@dataclass(frozen=True)
class ServiceSettings:
    opencode_binary: str
    opencode_config: Path | None
    ttyd_binary: str
    shell: str | None
    files_max_upload_mb: int
    tmux_binary: str | None = None  # terminals that survive a reconnect (`terminal_command`)


@dataclass(frozen=True)
class SessionLayout:
    session_id: str
    workspace: Path
    runtime_dir: Path  # private (0700): one subdirectory per service, each 0700
    log_dir: Path

    def service_dir(self, service: ServiceName) -> Path:
        """A service's own socket directory: a sandboxed service sees only its own, so
        an agent's tool cannot replace the file server's or the terminal's socket."""
        return self.runtime_dir / service.value

    @property
    def egress_dir(self) -> Path:
        return self.runtime_dir / "egress"

    @property
    def agent_socket(self) -> Path:
        return self.service_dir(ServiceName.AGENT) / "agent.sock"

    @property
    def files_socket(self) -> Path:
        return self.service_dir(ServiceName.FILES) / "files.sock"

    @property
    def terminal_socket(self) -> Path:
        return self.service_dir(ServiceName.TERMINAL) / "ttyd.sock"

    @property
    def egress_socket(self) -> Path:
        return self.egress_dir / "egress.sock"

    def dirs(self, service: ServiceName) -> ServiceDirs:
        return ServiceDirs(own=self.service_dir(service), egress=self.egress_dir)

    def make_dirs(self) -> None:
        for service in ServiceName:
            self.service_dir(service).mkdir(mode=0o700)
        self.egress_dir.mkdir(mode=0o700)


class SessionEndpoints(BaseModel):
    """Where one session's services listen: the user plane's own record (kept in the
    runner's state files), never sent to the control plane."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agent: AgentAuth
    agent_port: int | None = None  # known once opencode listens on the host's loopback
    # Set when opencode listens inside the sandbox's own network namespace: the Unix
    # socket the sandbox's init relays to it (then there is no port on the host).
    agent_socket: str | None = None
    files_socket: str
    terminal_socket: str

    @model_validator(mode="before")
    @classmethod
    def _upgrade(cls, data: Any) -> Any:
        """Records written before opencode chose its own port kept it, with the host, in
        `agent`: read them, so an upgraded runner re-adopts those sessions."""
        if isinstance(data, dict) and isinstance(data.get("agent"), dict):
            agent = data["agent"]
            if "port" in agent and "agent_port" not in data:
                data = {**data, "agent_port": agent["port"]}
                data["agent"] = {k: v for k, v in agent.items() if k not in ("host", "port")}
        return data


@dataclass(frozen=True)
class Service:
    spec: ProcessSpec
    probe_path: str  # answers 200 once the service is ready


def resolve_binary(name: str, config_key: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise UserPlaneError(
            ErrorCode.MISSING_BINARY,
            f"{name!r} not found on PATH (config {config_key}); run scripts/setup.sh or set "
            f"{config_key} to its absolute path",
        )
    return found


def visible(binary: str) -> tuple[Path, ...]:
    """A configured binary, and what its symlink resolves to, bound read-only into its
    sandbox: it may live where the sandbox shows nothing (a private /tmp)."""
    path = Path(binary)
    return tuple(dict.fromkeys((path, path.resolve())))


def terminal_command(tmux: str | None, socket_dir: Path, shell_argv: list[str]) -> list[str]:
    """What ttyd runs for each connection. With tmux: the attach command, which attaches
    to the terminal the connection names (ttyd's `--url-arg`), creating it on first use,
    so each terminal's shell, screen and history outlive the connection
    (`oqto.userplane.terminal_attach`). Without tmux, a new shell per connection."""
    if tmux is None:
        return shell_argv
    return terminal_attach.command(tmux, socket_dir, shell_argv)


def login_shell() -> str:
    try:
        shell = pwd.getpwuid(os.getuid()).pw_shell
    except KeyError:
        shell = ""
    if shell and os.access(shell, os.X_OK) and not shell.endswith(("nologin", "false")):
        return shell
    return "/bin/bash" if os.access("/bin/bash", os.X_OK) else "/bin/sh"


def session_env(session_id: str, instance: str) -> dict[str, str]:
    """The environment every service of a session starts from: ours, minus Oqto's own
    settings and secrets, plus the tags the stop sweep looks for."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OQTO_")}
    env[SESSION_ENV] = session_id
    env[INSTANCE_ENV] = instance
    return env


def build_services(
    settings: ServiceSettings, layout: SessionLayout, instance: str, sandbox: SessionSandbox
) -> tuple[list[Service], SessionEndpoints]:
    for path in (layout.agent_socket, layout.files_socket, layout.terminal_socket):
        if len(os.fsencode(path)) > MAX_SOCKET_PATH:
            raise UserPlaneError(
                ErrorCode.PATH_TOO_LONG,
                f"socket path {path} exceeds {MAX_SOCKET_PATH} bytes; shorten [local] socket_dir",
            )
    agent = AgentAuth(username=AGENT_USER, password=secrets.token_urlsafe(24))
    endpoints = SessionEndpoints(
        agent=agent,
        agent_socket=str(layout.agent_socket) if sandbox.agent_in_namespace else None,
        files_socket=str(layout.files_socket),
        terminal_socket=str(layout.terminal_socket),
    )
    base = session_env(layout.session_id, instance)

    def confined(
        service: ServiceName,
        argv: list[str],
        env: dict[str, str],
        readable: tuple[Path, ...] = (),
    ) -> tuple[list[str], dict[str, str]]:
        return sandbox.command(
            service,
            argv,
            env,
            layout.dirs(service),
            agent_socket=layout.agent_socket,
            egress_socket=layout.egress_socket,
            readable=readable,
        )

    agent_env = dict(base)
    agent_env["OPENCODE_SERVER_USERNAME"] = agent.username
    agent_env["OPENCODE_SERVER_PASSWORD"] = agent.password
    # Otherwise opencode fetches models.dev at start and hourly; providers come from config.
    agent_env["OPENCODE_DISABLE_MODELS_FETCH"] = "1"
    if settings.opencode_config is not None:
        agent_env["OPENCODE_CONFIG"] = str(settings.opencode_config)
    port = str(AGENT_PORT_INSIDE) if sandbox.agent_in_namespace else "0"
    opencode_binary = resolve_binary(settings.opencode_binary, "[opencode] binary")
    agent_argv, agent_env = confined(
        ServiceName.AGENT,
        [
            opencode_binary,
            "serve",
            "--hostname",
            LOOPBACK,
            "--port",
            port,
            "--print-logs",
            "--log-level",
            "WARN",
        ],
        agent_env,
        (
            *visible(opencode_binary),
            *((settings.opencode_config,) if settings.opencode_config is not None else ()),
        ),
    )
    opencode = Service(
        ProcessSpec(
            name="agent",
            argv=agent_argv,
            cwd=layout.workspace,
            env=agent_env,
            log_path=layout.log_dir / "agent.log",
            program=opencode_binary,
        ),
        "/global/health",
    )

    files_argv, files_env = confined(
        ServiceName.FILES,
        [
            sys.executable,
            "-m",
            "oqto.files",
            "--root",
            str(layout.workspace),
            "--socket",
            str(layout.files_socket),
            "--max-upload-mb",
            str(settings.files_max_upload_mb),
        ],
        base,
    )
    files = Service(
        ProcessSpec(
            name="files",
            argv=files_argv,
            cwd=layout.workspace,
            env=files_env,
            log_path=layout.log_dir / "files.log",
            program="oqto-files",
        ),
        "/health",
    )

    shell = settings.shell or login_shell()
    shell_argv = [shell, "-l"] if Path(shell).name in {"bash", "zsh", "sh", "dash"} else [shell]
    terminal_env = dict(base)
    terminal_env.setdefault("TERM", "xterm-256color")
    ttyd_binary = resolve_binary(settings.ttyd_binary, "[ttyd] binary")
    tmux = shutil.which(settings.tmux_binary) if settings.tmux_binary else None
    if settings.tmux_binary and tmux is None:
        log.warning(
            "tmux not found ([ttyd] tmux = %r): terminals get a new shell per connection",
            settings.tmux_binary,
        )
    terminal_argv, terminal_env = confined(
        ServiceName.TERMINAL,
        [
            ttyd_binary,
            "--interface",
            str(layout.terminal_socket),
            "--writable",
            *(("--url-arg",) if tmux else ()),
            "--cwd",
            str(layout.workspace),
            *terminal_command(tmux, layout.service_dir(ServiceName.TERMINAL), shell_argv),
        ],
        terminal_env,
        (*visible(ttyd_binary), *(visible(tmux) if tmux else ())),
    )
    terminal = Service(
        ProcessSpec(
            name="terminal",
            argv=terminal_argv,
            cwd=layout.workspace,
            env=terminal_env,
            log_path=layout.log_dir / "terminal.log",
            program=ttyd_binary,
        ),
        "/token",
    )
    return [opencode, files, terminal], endpoints
