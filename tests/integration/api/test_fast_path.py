"""GET /health, GET /recommend and GET /items/<id>/similar on the fast path
(app/api/fastpath.py) answer what Quart answers: the same status, headers,
body, ledger row, counters and access line; what the fast path does not take
reaches Quart untouched."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from psycopg.types.json import Jsonb

from app import create_app
from app.api.fastpath import SIMILAR
from tests.support import auth, catalogue
from tests.support.metrics import value

RECOMM_ID = re.compile(rb'"recomm_id":"[0-9a-f-]{36}"')

# (path, headers, whether the fast path answers it)
ANSWERED = [
    ("/health", {}),
    ("/health", {"X-Request-ID": "trace-7"}),
    ("/recommend?case=popular&k=3", {}),
    ("/recommend?user_id=u0", {}),
    ("/recommend?user_id=u1&k=4&exclude=f1,f2&category=food", {}),
    ("/recommend?case=content_based&product_id=s1&k=5", {}),
    ("/recommend?case=hybrid&user_id=u2&method=switching", {}),
    ("/recommend?user_id=u3&diversity=0.5&max_per_category=2", {}),
    (
        '/recommend?user_id=u4&rules={"filter":{"field":"categories","op":"contains","value":"sale"}}',
        {},
    ),
    ("/recommend?user_id=nobody&case=behavior_based", {}),
    ("/recommend?user_id=%C3%A9t%C3%A9&k=2", {}),
    # not UTF-8: werkzeug keeps the bytes percent-encoded, and so does the fast path
    ("/recommend?user_id=%ff", {}),
    ("/items/s1/similar", {}),
    ("/items/s2/similar?k=3&by=content&exclude=s3", {}),
    ("/items/f1/similar?category=food", {}),
    ("/items/a/b/similar", {}),  # a product id with a slash
    ("/items/a%2Fb/similar?k=2", {}),
]
HANDED_ON = [
    ("/recommend?k=0", {}),
    ("/recommend?user_id[]=u5", {}),
    ("/recommend?k=ten", {}),
    ("/recommend?case=content_based", {}),
    ("/recommend?case=nope", {}),
    ("/recommend?user_id=u0&user_id=u2", {}),
    ("/recommend?scenario=nope", {}),
    ("/recommend?experiment=nope&user_id=u0", {}),
    # rejected by the database: the fast path's call fails, Quart's answers 400
    ('/recommend?user_id=u4&rules={"bury":{"field":"categories","op":"contains","value":1}}', {}),
    ("/recommend/", {}),
    ("/items/s1/similar?by=words", {}),
    ("/items/unknown/similar", {}),  # 404 from the database
    ("/items/s1/similar?k=0", {}),
    ("/items//similar", {}),
    ("/items/similar", {}),
    ("/items/s1/similar/", {}),
    ("/health/", {}),
]
SECURE_ANSWERED = [
    ("/health", {}),
    ("/health", {"X-API-Key": "not-a-key"}),
    ("/recommend?case=popular", auth.bearer(auth.READ_KEY)),
    ("/recommend?user_id=u0", {"X-API-Key": auth.ADMIN_KEY}),
    ("/items/s1/similar", {"X-API-Key": auth.READ_KEY}),
]
SECURE_HANDED_ON = [
    ("/recommend?case=popular", {}),
    ("/recommend?case=popular", auth.bearer("wrong")),
    ("/recommend?case=popular", {"X-API-Key": auth.METRICS_KEY}),
    ("/items/s1/similar", {}),
]


@asynccontextmanager
async def apps(db_url: str, tmp_path: Any, **config: Any) -> AsyncIterator[tuple[Any, Any]]:
    """The same shop served with the fast path and without it."""
    base = {"database_url": db_url, "data_dir": tmp_path, "neighbor_refresh": None, **config}
    fast, slow = create_app(base), create_app({**base, "fast_path": False})
    async with fast.test_app() as fast_app, slow.test_app() as slow_app:
        yield fast_app, slow_app


async def answer(test_app: Any, path: str, headers: dict[str, str]) -> tuple[Any, ...]:
    response = await test_app.test_client().get(path, headers=headers)
    body = RECOMM_ID.sub(b'"recomm_id":"-"', await response.get_data())
    given = "X-Request-ID" in headers
    kept = [(k, v) for k, v in response.headers.items() if given or k.lower() != "x-request-id"]
    return response.status_code, kept, body


def fast_path_of(test_app: Any) -> Any:
    return test_app.app.extensions["recsys.fast_path"]


async def compare(fast: Any, slow: Any, requests: list[Any], answered: bool) -> None:
    for path, headers in requests:
        before = fast_path_of(fast).answered
        got, expected = await answer(fast, path, headers), await answer(slow, path, headers)
        assert got == expected, path
        assert fast_path_of(fast).answered == before + answered, path


@pytest.fixture
def shop(conn: Any) -> None:
    catalogue.load(conn)
    item = {"product_id": "a/b", "title": "Rocket star bread"}
    conn.execute("select * from recsys.upsert_items(%s)", (Jsonb([item]),))
    conn.commit()


async def test_answers_are_quarts_byte_for_byte(db_url, tmp_path, shop):
    async with apps(db_url, tmp_path) as (fast, slow):
        assert fast_path_of(slow) is None
        await compare(fast, slow, ANSWERED, answered=True)
        await compare(fast, slow, HANDED_ON, answered=False)


async def test_keys_are_checked_as_quart_checks_them(db_url, tmp_path, shop):
    async with apps(db_url, tmp_path, **auth.SECURE) as (fast, slow):
        await compare(fast, slow, SECURE_ANSWERED, answered=True)
        await compare(fast, slow, SECURE_HANDED_ON, answered=False)


async def test_ledger_rows_match(db_url, tmp_path, shop, conn):
    async with apps(db_url, tmp_path) as (fast, slow):
        for test_app in (fast, slow):
            for path, headers in ANSWERED[2:]:
                await answer(test_app, path, headers)
    rows = conn.execute(
        "select user_external_id, surface, case_name, method, items, chain = recomm_id,"
        " page, request from recsys.exposures order by served_at, recomm_id"
    ).fetchall()
    half = len(ANSWERED) - 2
    assert len(rows) == 2 * half
    assert sorted(map(repr, rows[:half])) == sorted(map(repr, rows[half:]))


async def test_counters_and_access_lines_match(db_url, tmp_path, shop, caplog):
    caplog.set_level(logging.INFO, logger="recsys.access")
    async with apps(db_url, tmp_path) as (fast, slow):
        for test_app in (fast, slow):
            for path, headers in ANSWERED:
                await answer(test_app, path, headers)
        texts = [
            await (await a.test_client().get("/metrics")).get_data(as_text=True)
            for a in (fast, slow)
        ]
    routes = {"/health": "/health", "/recommend": "/recommend", "/items/": SIMILAR}
    for prefix, route in routes.items():
        n = sum(path.startswith(prefix) for path, _ in ANSWERED)
        counts = [
            value(t, "recsys_http_requests_total", route=route, method="GET", status="200")
            for t in texts
        ]
        assert counts == [n, n], route
    for case, surface, n in (("popular", "recommend", 1), ("similar", "similar", 5)):
        lists = [value(t, "recsys_lists_served_total", case=case, surface=surface) for t in texts]
        assert lists == [n, n], case
    records = [
        r for r in caplog.records if r.name == "recsys.access" and "/metrics" not in r.getMessage()
    ]
    assert len(records) == 2 * len(ANSWERED)

    def shape(record: logging.LogRecord) -> tuple[Any, ...]:
        line = re.sub(r" [0-9.]+ms request_id=\S+", "", record.getMessage())
        extras = (record.method, record.path, record.route, record.status, record.remote)  # type: ignore[attr-defined]
        return line, extras

    fast_lines, slow_lines = records[: len(ANSWERED)], records[len(ANSWERED) :]
    assert [shape(r) for r in fast_lines] == [shape(r) for r in slow_lines]
    assert fast_lines[1].request_id == "trace-7"  # type: ignore[attr-defined]


async def test_a_database_error_is_answered_by_quart(db_url, tmp_path, shop, conn):
    """A failing list (a dropped function here) reaches Quart's error handler."""
    async with apps(db_url, tmp_path) as (fast, slow):
        conn.execute("alter function recsys.serve rename to serve_gone")
        conn.commit()
        try:
            before = fast_path_of(fast).answered
            got = await answer(fast, "/recommend?case=popular", {})
            expected = await answer(slow, "/recommend?case=popular", {})
        finally:
            conn.execute("alter function recsys.serve_gone rename to serve")
            conn.commit()
        assert got == expected
        assert got[0] == 500
        assert fast_path_of(fast).answered == before
