"""Concurrent writers: idempotent deliveries are stored once, nothing is lost, counts
stay exact, erasures interleave with writers. Real connections, real threads."""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable
from typing import Any

import httpx
import psycopg

from tests.support.events import at
from tests.support.recompute import assert_exact

WRITERS = 8
TYPES = ["view", "view", "view", "add_to_cart", "purchase"]

Row = tuple[str, str, str, Any, Any, str | None]


def make_events(
    n: int, seed: int, key_prefix: str | None, users: int = 20, items: int = 40
) -> list[Row]:
    """n events over shared users and items (so writers contend for the same rows)."""
    rng = random.Random(seed)
    return [
        (
            f"u{rng.randrange(users)}",
            f"p{rng.randrange(items)}",
            rng.choice(TYPES),
            None,
            at(rng.uniform(0, 24 * 30)),
            f"{key_prefix}-{i}" if key_prefix else None,
        )
        for i in range(n)
    ]


def ingest(conn: psycopg.Connection[Any], rows: list[Row]) -> tuple[int, int]:
    columns = [list(c) for c in zip(*rows, strict=True)]
    row = conn.execute(
        "select * from recsys.ingest_events(%s::text[], %s::text[], %s::text[],"
        " %s::real[], %s::timestamptz[], %s::text[])",
        columns,
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def run_writers(db_url: str, work: Callable[[int, psycopg.Connection[Any]], int]) -> list[int]:
    """Runs work(i, conn) in WRITERS threads started together; returns their results."""
    start = threading.Barrier(WRITERS)
    results: list[Any] = [None] * WRITERS

    def writer(i: int) -> None:
        try:
            with psycopg.connect(db_url, autocommit=True) as conn:
                start.wait()
                results[i] = work(i, conn)
        except BaseException as error:  # reported below, not lost in the thread
            results[i] = error

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    return results


def stored(conn: psycopg.Connection[Any]) -> int:
    n = conn.execute("select count(*) from recsys.events").fetchone()[0]
    conn.rollback()
    return int(n)


def test_8_writers_x_500_events_lose_nothing(db_url, conn):
    batches = [make_events(500, seed=i, key_prefix=f"w{i}") for i in range(WRITERS)]

    def work(i: int, c: psycopg.Connection[Any]) -> int:
        rows, inserted = batches[i], 0
        # Half the writers send single events, half send batches of 50.
        size = 1 if i % 2 else 50
        for start in range(0, len(rows), size):
            inserted += ingest(c, rows[start : start + size])[0]
        return inserted

    inserted = run_writers(db_url, work)
    assert inserted == [500] * WRITERS
    assert stored(conn) == WRITERS * 500
    assert_exact(conn)


def test_the_same_single_events_from_8_connections_are_stored_once(db_url, conn):
    rows = make_events(150, seed=1, key_prefix="single")

    def work(i: int, c: psycopg.Connection[Any]) -> int:
        return sum(ingest(c, [row])[0] for row in rows)

    inserted = run_writers(db_url, work)
    assert sum(inserted) == len(rows)
    assert stored(conn) == len(rows)
    assert_exact(conn)


def test_the_same_batch_from_8_connections_is_stored_once(db_url, conn):
    rows = make_events(500, seed=2, key_prefix="batch")

    def work(i: int, c: psycopg.Connection[Any]) -> int:
        return ingest(c, rows)[0]

    inserted = run_writers(db_url, work)
    assert sorted(inserted) == [0] * (WRITERS - 1) + [len(rows)]
    assert stored(conn) == len(rows)
    assert_exact(conn)


def test_overlapping_batches_in_different_orders_are_stored_once(db_url, conn):
    rows = make_events(400, seed=3, key_prefix="mixed")

    def work(i: int, c: psycopg.Connection[Any]) -> int:
        mine = random.Random(i).sample(rows, 200)
        return ingest(c, mine)[0]

    inserted = run_writers(db_url, work)
    keys = conn.execute("select count(distinct event_key) from recsys.events").fetchone()[0]
    assert sum(inserted) == stored(conn) == keys
    assert_exact(conn)


def test_erasures_interleaved_with_writers_keep_counts_exact(db_url, conn):
    rows = make_events(1200, seed=4, key_prefix=None, users=6, items=15)

    def work(i: int, c: psycopg.Connection[Any]) -> int:
        if i == 0:  # the eraser
            erased = 0
            for j in range(30):
                erased += c.execute(
                    "select count(*) from recsys.forget_user(%s)", (f"u{j % 6}",)
                ).fetchone()[0]
            return erased
        mine = rows[i - 1 :: WRITERS - 1]
        for start in range(0, len(mine), 10):
            ingest(c, mine[start : start + 10])
        return 0

    run_writers(db_url, work)
    assert_exact(conn)


async def test_retried_http_deliveries_are_stored_once(served, conn):
    batch = [
        {
            "user_id": f"h{i % 7}",
            "product_id": f"p{i % 11}",
            "event_type": "view",
            "event_id": f"http-{i}",
        }
        for i in range(300)
    ]
    single = {"user_id": "h0", "product_id": "p0", "event_type": "purchase", "event_id": "one"}
    async with httpx.AsyncClient(base_url=served.url, timeout=30) as http:
        batches = await asyncio.gather(
            *(http.post("/events", json={"events": batch}) for _ in range(WRITERS))
        )
        singles = await asyncio.gather(*(http.post("/event", json=single) for _ in range(WRITERS)))
    assert [r.status_code for r in batches] == [201] * WRITERS
    assert sum(r.json()["inserted"] for r in batches) == len(batch)
    assert sum(r.json()["duplicates"] for r in batches) == len(batch) * (WRITERS - 1)
    assert sorted(r.status_code for r in singles) == [200] * (WRITERS - 1) + [201]
    assert stored(conn) == len(batch) + 1
    assert_exact(conn)
