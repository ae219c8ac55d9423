"""Building a `LocalUserPlane` from the config: one recipe for single-user mode and the
runner, so the two modes cannot drift apart."""

from __future__ import annotations

from pathlib import Path

from oqto.config.model import OqtoConfig
from oqto.userplane.local import LocalSettings, LocalUserPlane
from oqto.userplane.services import ServiceSettings


def local_userplane(
    config: OqtoConfig,
    *,
    runtime_dir: Path,
    log_dir: Path,
    state_dir: Path | None = None,
) -> LocalUserPlane:
    opencode_config = config.opencode.config_file
    return LocalUserPlane(
        LocalSettings(
            workspace_root=config.local.workspace_root,
            runtime_dir=runtime_dir,
            log_dir=log_dir,
            services=ServiceSettings(
                opencode_binary=config.opencode.binary,
                opencode_config=opencode_config.expanduser().resolve() if opencode_config else None,
                ttyd_binary=config.ttyd.binary,
                shell=config.ttyd.shell,
                files_max_upload_mb=config.files.max_upload_mb,
            ),
            start_timeout=config.opencode.start_timeout_seconds,
            stop_grace=config.sessions.stop_grace_seconds,
            state_dir=state_dir,
        )
    )
