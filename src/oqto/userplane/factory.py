"""Building a `LocalUserPlane` from the config: one recipe for single-user mode and the
runner, so the two modes cannot drift apart."""

from __future__ import annotations

import os
from pathlib import Path

from oqto.config.model import OqtoConfig
from oqto.config.paths import SYSTEM_DATA_DIR, default_data_dir, default_state_dir
from oqto.sandbox.providers import provider_hosts
from oqto.userplane.confinement import SandboxSettings, hidden_dirs
from oqto.userplane.local import LocalSettings, LocalUserPlane
from oqto.userplane.services import ServiceSettings

# Every account's runtime directory: the systemd user manager's bus and private socket
# live there (a sandboxed process that reached them could start unconfined units), and
# so do the runner's socket and other sessions' sockets. A session sees only its own.
USER_RUNTIME_ROOT = Path("/run/user")


def local_userplane(
    config: OqtoConfig,
    *,
    runtime_dir: Path,
    log_dir: Path,
    state_dir: Path | None = None,
) -> LocalUserPlane:
    opencode_config = config.opencode.config_file
    resolved_config = opencode_config.expanduser().resolve() if opencode_config else None
    xdg_runtime = os.environ.get("XDG_RUNTIME_DIR")
    private = hidden_dirs(
        runtime_dir,
        log_dir,
        state_dir,
        default_state_dir(),
        config.server.data_dir,
        default_data_dir(),
        SYSTEM_DATA_DIR,
        config.provisioning.runner_log_dir,
        USER_RUNTIME_ROOT,
        Path(xdg_runtime) if xdg_runtime else None,
    )
    return LocalUserPlane(
        LocalSettings(
            workspace_root=config.local.workspace_root,
            runtime_dir=runtime_dir,
            log_dir=log_dir,
            services=ServiceSettings(
                opencode_binary=config.opencode.binary,
                opencode_config=resolved_config,
                ttyd_binary=config.ttyd.binary,
                shell=config.ttyd.shell,
                tmux_binary=config.ttyd.tmux or None,
                files_max_upload_mb=config.files.max_upload_mb,
            ),
            sandbox=SandboxSettings(
                admin_file=config.sandbox.config.expanduser(),
                bwrap=config.sandbox.bwrap,
                private_dirs=private,
                default_allow_hosts=tuple(provider_hosts(resolved_config)),
                home_roots=(Path("/home"), Path("/root"), config.provisioning.home_base),
                sessions_outlive_us=state_dir is not None,
            ),
            start_timeout=config.opencode.start_timeout_seconds,
            stop_grace=config.sessions.stop_grace_seconds,
            state_dir=state_dir,
        )
    )
