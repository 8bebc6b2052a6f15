"""HTTP blueprints, one per resource."""

from __future__ import annotations

from quart import Quart

from app.api import errors, events, health, items, recommend, users


def register(app: Quart) -> None:
    for module in (recommend, events, items, users, health):
        app.register_blueprint(module.bp)
    errors.register(app)
