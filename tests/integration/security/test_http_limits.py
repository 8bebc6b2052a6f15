"""HTTP limits: body size (413), batch size (413), string lengths and k (400),
each a JSON error naming the limit, and nothing written."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.api import counts, error_of, fields_of

EVENT = {"user_id": "u", "product_id": "p", "event_type": "view"}


@pytest.fixture
async def small(db_url: str, tmp_path: Path) -> AsyncIterator[Any]:
    from app import create_app

    app = create_app(
        {"database_url": db_url, "data_dir": tmp_path, "max_body_bytes": 2000, "max_batch": 3}
    )
    async with app.test_app() as test_app:
        yield test_app.test_client()


async def test_body_too_large_is_413(small, conn):
    before = counts(conn)
    events = [dict(EVENT, event_id=f"e{n}", product_id="p" * 200) for n in range(3)]
    response = await small.post("/events", json={"events": events * 3})
    error = await error_of(response, 413)
    assert error["code"] == "body_too_large" and "2000 bytes" in error["message"]
    assert counts(conn) == before


async def test_batch_too_large_is_413(small, conn):
    before = counts(conn)
    response = await small.post("/events", json={"events": [EVENT] * 4})
    error = await error_of(response, 413)
    assert "at most 3" in error["message"]
    assert counts(conn) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("user_id", "u" * 257),
        ("product_id", "p" * 257),
        ("event_type", "t" * 65),
        ("event_id", "e" * 257),
    ],
)
async def test_long_strings_are_400_naming_the_field(client, conn, field, value):
    before = counts(conn)
    response = await client.post("/event", json=dict(EVENT, **{field: value}))
    error = await error_of(response, 400)
    assert field in fields_of(error)
    assert counts(conn) == before


@pytest.mark.parametrize(
    "params",
    [
        {"k": "101"},
        {"k": "0"},
        {"exclude": "x," * 5001},
        {"category": "c" * 257},
        {"user_id": "u" * 257},
    ],
)
async def test_query_limits_are_400(client, params):
    query = {"case": "popular", **params}
    error = await error_of(await client.get("/recommend", query_string=query), 400)
    assert set(fields_of(error)) & set(params)
