"""HTTP blueprints, one per resource."""

from __future__ import annotations

from quart import Quart

from app.api import (
    admin,
    admin_stream,
    auth,
    demo,
    errors,
    event_types,
    events,
    experiments,
    health,
    items,
    metrics,
    predict,
    recommend,
    scenarios,
    strategies,
    telemetry,
    tokens,
    users,
    ws,
)
from app.metrics.instruments import Metrics


def register(app: Quart, instruments: Metrics | None = None) -> None:
    # First: the request id and the clock start before auth may refuse the request.
    telemetry.register(app, instruments)
    modules = (
        recommend,
        predict,
        events,
        event_types,
        items,
        users,
        tokens,
        health,
        ws,
        demo,
        experiments,
        scenarios,
        metrics,
        admin,
        admin_stream,
        strategies,
    )
    for module in modules:
        app.register_blueprint(module.bp)
    errors.register(app)
    auth.register(app)
