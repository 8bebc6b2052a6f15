"""recsys: real-time recommendations whose state lives in PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from quart import Quart
from quart_schema import Info, QuartSchema

from app import api
from app.config import Settings
from app.db import pool as db_pool
from app.db import url as db_url
from app.realtime.service import Realtime
from app.realtime.socketio_bridge import Bridge

__version__ = "0.1.0"

log = logging.getLogger(__name__)


def create_app(config: Settings | Mapping[str, Any] | None = None) -> Quart:
    """Build the Quart app; settings come from REC_* variables unless given."""
    if isinstance(config, Settings):
        settings = config
    else:
        settings = Settings.from_env().with_overrides(config or {})
    app = Quart(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = 32 * 1024 * 1024
    app.extensions["recsys.settings"] = settings
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
    )
    api.register(app)
    bridge = Bridge(lambda: app.extensions["recsys.realtime"])
    app.asgi_app = bridge.wrap(app.asgi_app)  # type: ignore[method-assign]

    @app.before_serving
    async def start() -> None:
        url = db_url.resolve(settings)
        pool = await db_pool.open_pool(url, settings.pool_min, settings.pool_max)
        realtime = Realtime(pool, url, settings.listen_probe_seconds)
        app.extensions["recsys.pool"] = pool
        app.extensions["recsys.realtime"] = realtime
        await realtime.start()
        if settings.train_every:
            from app.training import schedule

            app.extensions["recsys.training"] = asyncio.create_task(
                schedule.every(url, settings.train_every)
            )

    @app.after_serving
    async def stop() -> None:
        training = app.extensions.pop("recsys.training", None)
        if training is not None:
            training.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await training
        await app.extensions["recsys.realtime"].stop()
        await app.extensions["recsys.pool"].close()

    return app
