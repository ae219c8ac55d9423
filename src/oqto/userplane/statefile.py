"""Session records on disk, so a restarted runner can re-adopt what is still running.

One JSON file per session under the user's state directory, written atomically, mode 0600
(it holds the session's opencode password, which is this account's own secret anyway).
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from oqto.protocol.sessions import SandboxReport, SessionSpec
from oqto.userplane.services import SessionEndpoints

log = logging.getLogger(__name__)


class ProcessRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    pid: int
    start_time: int
    argv: list[str]
    log_path: str


class SessionRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    spec: SessionSpec
    workspace: str
    runtime_dir: str
    log_dir: str
    endpoints: SessionEndpoints
    processes: list[ProcessRecord]
    ready_after: dict[str, float] = {}
    # Absent in records written before sessions were sandboxed: those ran unconfined.
    sandbox: SandboxReport | None = None
    allow_hosts: list[str] | None = None  # the session's egress proxy, reopened on adoption
    limited: bool = False  # its services run in a cgroup slice of their own


class StateStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, session_id: str) -> Path:
        return self.directory / f"{session_id}.json"

    def save(self, record: SessionRecord) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(record.model_dump_json())
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self._path(record.spec.id))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def remove(self, session_id: str) -> None:
        self._path(session_id).unlink(missing_ok=True)

    def load_all(self) -> list[SessionRecord]:
        if not self.directory.is_dir():
            return []
        records = []
        for path in sorted(self.directory.glob("*.json")):
            try:
                records.append(SessionRecord.model_validate_json(path.read_bytes()))
            except (OSError, ValidationError) as exc:
                # A record we cannot read names no process we could safely touch.
                log.warning("ignoring unreadable session record %s: %s", path, exc)
                path.unlink(missing_ok=True)
        return records
