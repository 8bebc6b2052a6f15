"""HTTP blueprints, one per resource."""

from __future__ import annotations

from quart import Quart

from app.api import (
    auth,
    demo,
    errors,
    events,
    experiments,
    health,
    items,
    predict,
    recommend,
    tokens,
    users,
    ws,
)


def register(app: Quart) -> None:
    for module in (recommend, predict, events, items, users, tokens, health, ws, demo, experiments):
        app.register_blueprint(module.bp)
    errors.register(app)
    auth.register(app)
