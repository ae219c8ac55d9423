"""The config file's schema. Unknown keys are errors (`extra="forbid"`) so a typo never
silently falls back to a default."""

from __future__ import annotations

import enum
import ipaddress
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from oqto.protocol.names import LINUX_PREFIX_MAX, is_linux_prefix


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BackendMode(enum.StrEnum):
    LOCAL = "local"
    CONTAINER = "container"
    AUTO = "auto"


class LogFormat(enum.StrEnum):
    LOGFMT = "logfmt"
    JSON = "json"


def parse_listen(value: str) -> tuple[str, int]:
    """Split `host:port` (IPv6 as `[::1]:3000`) and check the port."""
    host, sep, port_text = value.rpartition(":")
    if not sep or not host:
        raise ValueError(f"expected HOST:PORT, got {value!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"port must be 1-65535, got {port_text!r}")
    return host, int(port_text)


class ServerSection(_Section):
    listen: str = "127.0.0.1:3000"
    data_dir: Path | None = None
    public_url: str | None = None
    allowed_origins: list[str] = Field(default_factory=list)
    # Peers (IP addresses or CIDR networks) whose X-Forwarded-For / X-Forwarded-Proto are
    # believed. Empty: none, so no local process can pick the address the throttle sees.
    trusted_proxies: list[str] = Field(default_factory=list)
    # The front door: everything an unauthenticated client can make large or slow.
    max_header_bytes: Annotated[int, Field(ge=1024, le=1 << 20)] = 32 * 1024
    header_timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 10.0
    keepalive_timeout_seconds: Annotated[float, Field(gt=0, le=3600)] = 5.0
    max_connections_per_client: Annotated[int, Field(ge=1, le=100_000)] = 128
    # One WebSocket message, either direction (browser -> us, session service -> us).
    ws_max_message_bytes: Annotated[int, Field(ge=1024, le=256 << 20)] = 4 << 20

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"not an IP address or network: {entry!r}") from None
        return value

    @field_validator("listen")
    @classmethod
    def _check_listen(cls, value: str) -> str:
        parse_listen(value)
        return value


class BackendSection(_Section):
    mode: BackendMode = BackendMode.LOCAL


class LocalSection(_Section):
    # Single-user mode's per-session private directories (sockets) live below this. Empty
    # means $XDG_RUNTIME_DIR/oqto, or /tmp/oqto-<uid>. Runners ignore it: they always use
    # their own account's $XDG_RUNTIME_DIR/oqto.
    socket_dir: Path | None = None
    # The one convention for where a user's runner listens; `{uid}` and `{user}` are the
    # Linux account's. The default is `$XDG_RUNTIME_DIR/oqto-runner.sock` under logind.
    runner_socket_pattern: str = "/run/user/{uid}/oqto-runner.sock"
    # `{user}` is the platform user name; `~` is the home of the account running sessions.
    workspace_root: str = "~/oqto/workspaces/{user}"
    single_user: bool = False

    @field_validator("runner_socket_pattern")
    @classmethod
    def _check_pattern(cls, value: str) -> str:
        # The pattern goes through str.format: anything beyond the two bare fields
        # ({user.__class__}, {uid:>99999999}, {user!r}) reads attributes or makes
        # huge strings, so only literal `{uid}` and `{user}` are accepted.
        from string import Formatter  # here: this validator is the only user

        try:
            fields = list(Formatter().parse(value))
        except ValueError as exc:
            raise ValueError(f"invalid braces: {exc}") from None
        for _literal, field, spec, conversion in fields:
            if field is None:
                continue
            if field not in ("uid", "user") or spec or conversion:
                shown = "{" + field + (f"!{conversion}" if conversion else "")
                shown += (f":{spec}" if spec else "") + "}"
                raise ValueError(f"only {{uid}} and {{user}} may appear, not {shown}")
        if not value.startswith("/"):
            raise ValueError("must be an absolute path")
        if ".." in value.split("/"):
            raise ValueError("must not contain '..'")
        return value


class RunnerSection(_Section):
    # The control plane's account: the only other uid (besides root) a runner serves.
    service_user: str = "oqto"
    call_timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 15.0
    # How often the control plane re-checks its view of sessions against every runner.
    reconcile_interval_seconds: Annotated[float, Field(ge=1, le=3600)] = 30.0


class DatabaseSection(_Section):
    url: str | None = None


class AuthSection(_Section):
    session_ttl_hours: Annotated[int, Field(ge=1, le=24 * 365)] = 168
    login_max_failures: Annotated[int, Field(ge=1, le=1000)] = 5
    login_window_seconds: Annotated[int, Field(ge=1, le=86400)] = 300
    # argon2id costs 64 MiB and most of a core per check: at most this many at once.
    max_concurrent_password_checks: Annotated[int, Field(ge=1, le=64)] = 2
    cookie_secure: bool | None = None


class OpencodeSection(_Section):
    binary: str = "opencode"
    config_file: Path | None = None
    start_timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 120.0


class TtydSection(_Section):
    binary: str = "ttyd"
    shell: str | None = None
    # The shell runs in a tmux session of the session's own, so a browser refresh or a
    # dropped network reattaches to the same shell with its screen and history; "" for a
    # new shell per connection. Not found on PATH: a new shell per connection (logged).
    tmux: str = "tmux"


class FilesSection(_Section):
    max_upload_mb: Annotated[int, Field(ge=1, le=1024 * 1024)] = 100


class SessionsSection(_Section):
    stop_grace_seconds: Annotated[float, Field(gt=0, le=120)] = 5.0
    max_running_per_user: Annotated[int, Field(ge=1, le=1000)] = 20
    # Single-user mode: start again what was running when the server stopped (sessions
    # stop with it there; multi-user sessions outlive the control plane anyway).
    restore_on_start: bool = True


class SandboxSection(_Section):
    # The admin's policy file (root-owned); its absence means the built-in default
    # profile, never "no sandbox": only `enabled = false` in it turns confinement off.
    config: Path = Path("/etc/oqto/sandbox.toml")
    bwrap: str = "bwrap"


class LoggingSection(_Section):
    level: str = "info"
    format: LogFormat = LogFormat.LOGFMT

    @field_validator("level")
    @classmethod
    def _check_level(cls, value: str) -> str:
        if value.lower() not in {"debug", "info", "warning", "error"}:
            raise ValueError("must be one of debug, info, warning, error")
        return value.lower()


class ProvisioningSection(_Section):
    """How `oqtoctl user create` and the usermgr helper make Linux accounts."""

    # Linux account of platform user NAME: <prefix>NAME (unless given explicitly). A prefix
    # keeps platform accounts apart from people's own accounts on the host.
    linux_user_prefix: str = "oqto_"
    uid_min: Annotated[int, Field(ge=1000, le=2**31 - 2)] = 2000
    uid_max: Annotated[int, Field(ge=1000, le=2**31 - 2)] = 60000
    shell: str = "/bin/bash"
    home_base: Path = Path("/home")
    # None: /etc/oqto/skel when it exists, else /etc/skel.
    skeleton: Path | None = None
    # The privileged helper's socket (root-owned; only the service account may connect).
    usermgr_socket: Path = Path("/run/oqto-usermgr/usermgr.sock")
    # Where runners started without systemd (containers, CI) write their output.
    runner_log_dir: Path = Path("/var/log/oqto/runners")
    runner_start_timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 60.0

    @field_validator("linux_user_prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        if not is_linux_prefix(value):
            raise ValueError(
                f"must be empty or match [a-z_][a-z0-9_-]* (at most {LINUX_PREFIX_MAX} "
                "characters), so every Linux account name it makes is valid"
            )
        return value

    @field_validator("shell", "home_base", "skeleton", "usermgr_socket", "runner_log_dir")
    @classmethod
    def _check_absolute(cls, value: str | Path | None) -> str | Path | None:
        if value is not None and not str(value).startswith("/"):
            raise ValueError("must be an absolute path")
        return value

    @model_validator(mode="after")
    def _check_range(self) -> ProvisioningSection:
        if self.uid_min > self.uid_max:
            raise ValueError(f"uid_min ({self.uid_min}) must not exceed uid_max ({self.uid_max})")
        return self


class OqtoConfig(_Section):
    server: ServerSection = Field(default_factory=ServerSection)
    backend: BackendSection = Field(default_factory=BackendSection)
    local: LocalSection = Field(default_factory=LocalSection)
    runner: RunnerSection = Field(default_factory=RunnerSection)
    database: DatabaseSection = Field(default_factory=DatabaseSection)
    auth: AuthSection = Field(default_factory=AuthSection)
    opencode: OpencodeSection = Field(default_factory=OpencodeSection)
    ttyd: TtydSection = Field(default_factory=TtydSection)
    files: FilesSection = Field(default_factory=FilesSection)
    sessions: SessionsSection = Field(default_factory=SessionsSection)
    sandbox: SandboxSection = Field(default_factory=SandboxSection)
    logging: LoggingSection = Field(default_factory=LoggingSection)
    provisioning: ProvisioningSection = Field(default_factory=ProvisioningSection)
