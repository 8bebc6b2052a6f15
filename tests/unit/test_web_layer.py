"""The web layer's per-request cuts (docs/performance.md, Issue 17) keep what
they replaced: the JSON bytes, the access line, the Socket.IO routing and
Quart's ensure_async answers."""

from __future__ import annotations

import json
import logging

import orjson
import pytest
from quart import Quart

from app.api import jsonio, telemetry
from app.api.framework import App
from app.realtime.socketio_bridge import is_socketio


@pytest.mark.parametrize(
    "obj",
    [
        {"status": "ok", "database": "ok"},
        {"a": [1, 2.5, None, True], "é": "ünï", "n": 1e-7, "big": 12345678901234},
        [],
        {"nested": {"x": [{"y": 0.1}]}},
    ],
)
async def test_json_body_is_what_jsonify_made(obj):
    app = Quart(__name__)
    app.json = jsonio.OrjsonProvider(app)
    async with app.app_context():
        response = app.json.response(obj)
        body = await response.get_data()
        # Flask's own provider: dumps (orjson here), then a newline, as text.
        expected = f"{jsonio.OrjsonProvider.dumps(app.json, obj)}\n".encode()
        assert body == expected
        assert json.loads(body) == orjson.loads(orjson.dumps(obj))
        assert response.mimetype == "application/json"
        assert response.headers["Content-Length"] == str(len(expected))


@pytest.mark.parametrize(
    ("path", "taken"),
    [
        ("/socket.io/", True),
        ("/socket.io", True),
        ("/socket.io/?EIO=4", True),
        ("/socket.iox", False),
        ("/health", False),
        ("/recommend", False),
        ("/ws", False),
    ],
)
def test_socketio_paths_are_engineios(path, taken):
    import engineio

    # What engineio's ASGIApp compares (its _ensure_trailing_slash, then the prefix).
    middleware = engineio.ASGIApp(None, engineio_path="socket.io")
    expected = middleware._ensure_trailing_slash(path).startswith(middleware.engineio_path)
    assert is_socketio(path) is taken is expected


def test_ensure_async_answers_as_quart():
    app = App(__name__)
    plain = Quart(__name__)

    async def coro() -> None:
        return None

    def sync() -> int:
        return 1

    assert app.ensure_async(coro) is coro is plain.ensure_async(coro)
    wrapped = app.ensure_async(sync)
    assert app.ensure_async(sync) is wrapped  # remembered
    assert wrapped is not sync


class Req:
    method = "GET"
    path = "/items/a?"
    remote_addr = "127.0.0.1"

    def __init__(self, query: bytes) -> None:
        self.query_string = query

    @property
    def full_path(self) -> str:  # werkzeug's
        return f"{self.path}?{self.query_string.decode()}"


@pytest.mark.parametrize("query", [b"", b"k=5&case=popular", b"q=?", "x=é".encode()])
def test_access_line_is_the_old_one(query, caplog):
    req = Req(query)
    with caplog.at_level(logging.INFO, logger=telemetry.log.name):
        telemetry.access_line(req, 200, "/items/<path:product_id>", 0.0123, "rid")
    (record,) = caplog.records
    assert record.getMessage() == (f"GET {req.full_path.rstrip('?')} 200 12.30ms request_id=rid")
    assert record.path == req.path and record.route == "/items/<path:product_id>"
    assert (record.status, record.duration_ms, record.remote) == (200, 12.3, "127.0.0.1")


def test_the_app_answers_with_orjson():
    """QuartSchema installs a provider of its own: create_app must set ours after it."""
    from app import create_app

    app = create_app({"database_url": "postgresql://nobody@localhost/none"})
    assert type(app.json) is jsonio.OrjsonProvider


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        # what orjson refuses goes through the json module, written the same way
        ({"s": "\ud8a9", "b": 1}, '{"b":1,"s":"\\ud8a9"}'),
        ({"n": 2**70}, '{"n":1180591620717411303424}'),
    ],
)
def test_what_orjson_refuses_is_still_written(obj, expected):
    import datetime

    app = Quart(__name__)
    provider = jsonio.OrjsonProvider(app)
    assert provider.dumps(obj) == expected
    when = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    # datetimes as quart-schema's provider wrote them (pydantic's ISO 8601, "Z")
    assert provider.dumps({**obj, "t": when}) == expected[:-1] + ',"t":"2026-01-02T03:04:05Z"}'
    assert provider.dumps({"t": when}) == '{"t":"2026-01-02T03:04:05Z"}'
