"""Timestamps against a database whose time zone is not UTC: naive input is still UTC."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest
from psycopg import sql

from tests.support.api import post_event, record, stored_events

ZONE = "America/New_York"


@pytest.fixture
def db_url(db_url: str) -> str:
    """The per-test database, with a default TimeZone far from UTC (set before the app connects)."""
    with psycopg.connect(db_url, autocommit=True) as admin:
        row = admin.execute("select current_database()").fetchone()
        assert row is not None
        admin.execute(
            sql.SQL("alter database {} set timezone = {}").format(
                sql.Identifier(row[0]), sql.Literal(ZONE)
            )
        )
    return db_url


async def test_database_time_zone_is_not_utc(conn):
    [(zone,)] = conn.execute("show timezone").fetchall()
    assert zone == ZONE


async def test_naive_iso_timestamp_is_utc_not_the_database_zone(client, conn):
    response = await post_event(
        client, user_id="u1", product_id="p1", event_type="view", timestamp="2024-06-01T00:00:00"
    )
    assert response.status_code == 201
    [row] = stored_events(conn)
    assert row[4] == datetime(2024, 6, 1, tzinfo=UTC)


async def test_naive_timestamps_in_a_batch_are_utc(client, conn):
    await record(
        client,
        [
            {
                "user_id": "u1",
                "product_id": "p1",
                "event_type": "view",
                "timestamp": "2024-01-15T08:30:00",
            },
            {"user_id": "u1", "product_id": "p2", "event_type": "view", "timestamp": 1_705_307_400},
        ],
    )
    stamps = [row[4] for row in stored_events(conn)]
    assert stamps == [datetime(2024, 1, 15, 8, 30, tzinfo=UTC)] * 2


async def test_history_reports_the_instant_that_was_sent(client):
    await post_event(
        client, user_id="u1", product_id="p1", event_type="view", timestamp="2024-06-01T00:00:00Z"
    )
    body = await (await client.get("/users/u1/history")).get_json()
    assert datetime.fromisoformat(body["events"][0]["timestamp"]) == datetime(
        2024, 6, 1, tzinfo=UTC
    )
