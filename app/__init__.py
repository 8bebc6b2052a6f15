"""recsys: real-time recommendations whose state lives in PostgreSQL."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from typing import Any

from quart import Quart
from quart_schema import Info, QuartSchema

from app import api, logs
from app.api import jsonio
from app.api.fastpath import FastPath
from app.api.framework import App
from app.api.openapi import Provider
from app.config import Settings
from app.db import url as db_url
from app.metrics.gauges import DatabaseGauges
from app.metrics.instruments import Metrics
from app.metrics.sampler import Sampler
from app.realtime.guard import Guard
from app.realtime.socketio_bridge import Bridge
from app.shops import Shops

__version__ = "0.1.0"

log = logging.getLogger(__name__)


def create_app(config: Settings | Mapping[str, Any] | None = None) -> Quart:
    """Build the Quart app; settings come from REC_* variables unless given.

    Raises ValueError when authentication is on without a usable REC_TOKEN_SECRET.
    """
    if isinstance(config, Settings):
        settings = config
    else:
        settings = Settings.from_env().with_overrides(config or {})
    settings.check_auth()
    app = App(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions["recsys.settings"] = settings
    # With authentication off tokens are issued but never required: a random
    # per-process secret is enough, and nothing is derived from a guessable one.
    secret = settings.token_secret or secrets.token_bytes(32)
    app.extensions["recsys.token_secret"] = secret
    QuartSchema(
        app,
        info=Info(
            title="recsys",
            version=__version__,
            description="Real-time recommendations whose state lives in PostgreSQL.",
        ),
        openapi_path="/openapi.json",
        swagger_ui_path="/docs",
        redoc_ui_path="/redocs",
        security_schemes=Provider.SECURITY_SCHEMES,
        openapi_provider_class=Provider,
    )
    # After QuartSchema, which sets a provider of its own (the json module's).
    app.json = jsonio.OrjsonProvider(app)
    logs.configure(settings.log_format)
    instruments = Metrics() if settings.metrics else None
    if instruments is not None:
        app.extensions["recsys.metrics"] = instruments
    api.register(app, instruments)
    bridge = Bridge(lambda: app.extensions["recsys.shops"], settings, secret)
    guard = Guard(
        bridge.wrap(app.asgi_app), settings.ws_max_message, settings.ws_rate, settings.ws_burst
    )
    app.extensions["recsys.sockets"] = guard
    fast = FastPath(app, guard, settings, instruments) if settings.fast_path else None
    app.extensions["recsys.fast_path"] = fast
    app.asgi_app = fast or guard  # type: ignore[method-assign,assignment]

    @app.before_serving
    async def start() -> None:
        shops = Shops(settings, db_url.resolve(settings))
        app.extensions["recsys.shops"] = shops
        await shops.start()
        if instruments is not None:
            default = shops.default
            sampler = Sampler(instruments, default.pool, default.realtime, guard)
            sampler.start()
            app.extensions["recsys.sampler"] = sampler
            app.extensions["recsys.database_gauges"] = DatabaseGauges(default.pool)

    @app.after_serving
    async def stop() -> None:
        # Normally done already when shutdown began (app/server.py); here for
        # servers that only run the ASGI lifespan.
        guard.close_all()
        if "recsys.sampler" in app.extensions:
            await app.extensions.pop("recsys.sampler").stop()
        await app.extensions["recsys.shops"].close()

    return app
