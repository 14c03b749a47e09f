"""The FastAPI app: routers, error handlers and a lifespan; nothing else."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

import structlog
from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from sqlalchemy.engine import Engine
from temporalio.client import Client

from api.dashboard import install_dashboard
from api.deps import KeyCache
from api.errors import install_error_handlers
from api.limits import BodyLimitMiddleware
from api.routes import ROUTERS
from api.services import recovery, routing, webhooks
from api.temporal import connect_temporal, index_executions_if_possible
from schemas.settings import Settings, get_settings
from store.db import create_db_engine
from store.recorder import Recorder

log = structlog.get_logger(__name__)

StartupHook = Callable[[FastAPI], AbstractAsyncContextManager[None]]
"""Entered once Temporal is connected, left at shutdown: how the CLI runs a worker beside the
app (`app.state.temporal_client`, `.engine`, `.settings` are set by then)."""


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def create_app(
    *,
    settings: Settings | None = None,
    engine: Engine | None = None,
    temporal_client: Client | None = None,
    on_startup: StartupHook | None = None,
) -> FastAPI:
    settings = settings or get_settings()
    owns_engine = engine is None
    engine = engine or create_db_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.temporal_client is None:
            try:
                app.state.temporal_client = await connect_temporal(settings)
            except Exception as exc:  # the app still serves; Temporal is retried on use
                if on_startup is not None:
                    raise
                log.warning("temporal unreachable at startup", error=str(exc))
        if app.state.temporal_client is not None:
            await index_executions_if_possible(app.state, app.state.temporal_client)
        async with AsyncExitStack() as stack:
            if on_startup is not None:
                await stack.enter_async_context(on_startup(app))
            if settings.offer_sweep_s > 0:
                sweeper = asyncio.create_task(routing.sweep_offers_forever(app))
                stack.push_async_callback(_cancel, sweeper)
            if settings.start_sweep_s > 0:
                recovery_task = asyncio.create_task(recovery.recover_forever(app))
                stack.push_async_callback(_cancel, recovery_task)
            if settings.webhook_sweep_s > 0:
                fan_out = asyncio.create_task(webhooks.fan_out_forever(app))
                stack.push_async_callback(_cancel, fan_out)
            yield
        if owns_engine:
            engine.dispose()

    # /docs and /redoc with Swagger UI and ReDoc served by the app itself (FastAPI's load them
    # from a CDN: a blank page offline); their assets under /docs/assets.
    app = FastAPIOffline(
        title="Flowdeck",
        summary="Durable engagement and call flows on Temporal",
        version="0.1.0",
        lifespan=lifespan,
        static_url="/docs/assets",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.temporal_client = temporal_client
    app.state.temporal_lock = asyncio.Lock()
    app.state.key_cache = KeyCache(settings.key_cache_s)
    # Writes the steps of call turns after Twilio has its answer, group-committed.
    app.state.call_recorder = Recorder(engine)
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    for prefix, router in ROUTERS:
        app.include_router(router, prefix=prefix)
    # Last: the dashboard's routes never stand before an API route.
    install_dashboard(app, settings.dashboard_dir)
    return app
