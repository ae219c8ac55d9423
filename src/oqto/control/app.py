"""Building the control plane: resolved settings, database, user plane, ASGI app."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp

from oqto import package_version
from oqto.config.model import OqtoConfig
from oqto.config.paths import default_data_dir, runtime_dir
from oqto.control import web
from oqto.control.api import (
    account,
    admin,
    auth,
    contract,
    docs,
    events,
    health,
    register,
    session_sockets,
    sessions,
)
from oqto.control.auth.cache import TokenCache
from oqto.control.auth.live import LiveConnections
from oqto.control.auth.passwords import PasswordGate
from oqto.control.auth.proxies import TrustedProxyMiddleware
from oqto.control.auth.ratelimit import LoginThrottle
from oqto.control.backends import Backend, InProcessBackend, RunnerBackend
from oqto.control.bootstrap import check_single_user
from oqto.control.context import ControlContext, ServerPaths
from oqto.control.errors import install_error_handlers
from oqto.control.proxy.dataplane import DataPlane
from oqto.control.proxy.upstream import UpstreamClients
from oqto.control.requestlog import RequestLogMiddleware
from oqto.control.runners import RunnerPool
from oqto.control.sessions import SessionService
from oqto.control.trustedproxies import TrustedProxies
from oqto.db.engine import make_engine, make_sessionmaker, migrate, sqlite_url
from oqto.userplane.factory import local_userplane


def resolve_paths(config: OqtoConfig) -> ServerPaths:
    data_dir = (config.server.data_dir or default_data_dir()).expanduser()
    return ServerPaths(
        data_dir=data_dir,
        database_url=config.database.url or sqlite_url(data_dir / "oqto.db"),
        # Created 0700, or refused (ConfigError) if someone else could have made it.
        runtime_dir=runtime_dir(config.local.socket_dir),
        log_dir=data_dir / "logs" / "sessions",
    )


def make_backend(config: OqtoConfig, paths: ServerPaths, single_user: bool) -> Backend:
    if single_user:
        return InProcessBackend(
            local_userplane(config, runtime_dir=paths.runtime_dir, log_dir=paths.log_dir)
        )
    return RunnerBackend(
        RunnerPool(
            config.local.runner_socket_pattern,
            call_timeout=config.runner.call_timeout_seconds,
            start_timeout=config.opencode.start_timeout_seconds,
        ),
        reconcile_interval=config.runner.reconcile_interval_seconds,
    )


def build_context(config: OqtoConfig, single_user: bool) -> tuple[ControlContext, Backend]:
    """Everything that can fail on bad config or a bad database fails here, before the
    server accepts a connection (its port is bound first, so that a taken port fails before
    anything is written)."""
    paths = resolve_paths(config)
    paths.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    engine = make_engine(paths.database_url)
    migrate(engine, in_child=True)
    db = make_sessionmaker(engine)
    if single_user:
        check_single_user(db)
    backend = make_backend(config, paths, single_user)
    service = SessionService(
        db,
        backend,
        max_running_per_user=config.sessions.max_running_per_user,
        restore_on_start=single_user and config.sessions.restore_on_start,
    )
    upstreams = UpstreamClients()
    service.on_stop.append(upstreams.forget)
    tokens = TokenCache()
    ctx = ControlContext(
        config=config,
        paths=paths,
        single_user=single_user,
        db=db,
        throttle=LoginThrottle(config.auth.login_max_failures, config.auth.login_window_seconds),
        password_gate=PasswordGate(config.auth.max_concurrent_password_checks),
        live=LiveConnections(db, service, tokens),
        tokens=tokens,
        sessions=service,
        upstreams=upstreams,
    )
    return ctx, backend


class OqtoApp(FastAPI):
    """FastAPI with Oqto's own layers outside Starlette's middleware stack.

    A proxied request (most of what a browser sends) has no use for Starlette's error page
    or FastAPI's body-limit and telemetry wrappers, and each costs a coroutine per request
    and a wrapper per message sent: about a tenth of a proxied request's CPU (py-spy at
    c=50). So the trusted-proxy rewrite (outermost, so that the request log and the
    throttle see the client a trusted proxy names), the request log and the data plane
    come first, and only what the data plane does not serve goes on to the stack. An
    exception escaping these three layers gets uvicorn's plain 500.
    """

    trusted_proxies = TrustedProxies(())

    def build_middleware_stack(self) -> ASGIApp:
        inner = DataPlane(super().build_middleware_stack())
        return TrustedProxyMiddleware(RequestLogMiddleware(inner), proxies=self.trusted_proxies)


def create_app(ctx: ControlContext, backend: Backend) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await ctx.sessions.startup()
        # Ends streams and WebSockets whose sign-in was revoked by another process.
        live = asyncio.create_task(ctx.live.run())
        try:
            yield
        finally:
            live.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await live
            await ctx.sessions.shutdown()
            await ctx.upstreams.aclose()

    app = OqtoApp(
        title="Oqto",
        version=package_version(),
        description=contract.DESCRIPTION,
        openapi_tags=contract.TAGS,
        # Served by authenticated routes in api/docs.py: only health and login are public.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    # Read by the admin API (runner health in multi-user mode).
    app.state.backend = backend
    install_error_handlers(app)
    events.install(app, ctx.sessions)
    api = APIRouter(prefix="/api")
    for module in (health, auth, register, account, admin, sessions, session_sockets, events, docs):
        api.include_router(module.router)
    app.include_router(api)
    # Last: its catch-all serves the browser app for every path the API does not own.
    web.install(app)
    app.trusted_proxies = TrustedProxies(ctx.config.server.trusted_proxies)
    return app
