"""The demo page: a catalogue, event buttons and a live recommendation panel."""

from __future__ import annotations

from quart import Blueprint, Response, send_from_directory
from quart_schema import hide

from app import resources

STATIC = resources.directory(resources.STATIC)

bp = Blueprint("demo", __name__)


@bp.get("/demo/realtime")
async def realtime_demo() -> Response:
    """A page to click view / add to cart / purchase and watch pushes arrive."""
    return await send_from_directory(STATIC, "demo.html")


@bp.get("/static/<path:name>")
@hide  # the demo page's assets, not part of the API
async def static_file(name: str) -> Response:
    return await send_from_directory(STATIC, name)
