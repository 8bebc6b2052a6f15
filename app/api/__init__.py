"""HTTP blueprints, one per resource."""

from __future__ import annotations

from quart import Quart

from app.api import (
    auth,
    demo,
    errors,
    event_types,
    events,
    experiments,
    health,
    items,
    predict,
    recommend,
    scenarios,
    tokens,
    users,
    ws,
)


def register(app: Quart) -> None:
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
    )
    for module in modules:
        app.register_blueprint(module.bp)
    errors.register(app)
    auth.register(app)
