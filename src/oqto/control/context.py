"""Everything a request handler needs, built once at startup and kept on `app.state`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session as DBSession
from sqlalchemy.orm import sessionmaker
from starlette.requests import HTTPConnection

from oqto.config.model import OqtoConfig
from oqto.control.auth.cache import TokenCache
from oqto.control.auth.live import LiveConnections
from oqto.control.auth.passwords import PasswordGate
from oqto.control.auth.ratelimit import LoginThrottle
from oqto.control.proxy.upstream import UpstreamClients
from oqto.control.sessions import SessionService


@dataclass(frozen=True)
class ServerPaths:
    data_dir: Path
    database_url: str
    runtime_dir: Path
    log_dir: Path


@dataclass
class ControlContext:
    config: OqtoConfig
    paths: ServerPaths
    single_user: bool
    db: sessionmaker[DBSession]
    throttle: LoginThrottle
    password_gate: PasswordGate
    live: LiveConnections
    tokens: TokenCache
    sessions: SessionService
    upstreams: UpstreamClients


def context(conn: HTTPConnection) -> ControlContext:
    ctx = conn.app.state.ctx
    assert isinstance(ctx, ControlContext)
    return ctx
