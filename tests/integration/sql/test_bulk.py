"""recsys.bulk_ingest_events: into a shop without events, the trigger off and every
aggregate built set-based, equal to the reference recompute (tests/support/recompute.py);
into a shop with events, the trigger path. Either way the catalogue is left as it was.
"""

from __future__ import annotations

import json
import random
import threading
from datetime import datetime
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.events import at
from tests.support.recompute import assert_exact, snapshot

# Every kind: positive (a conversion, a rating), negative and neutral.
TYPES = ["view", "add_to_cart", "purchase", "rating", "dislike", "hide", "return"]

Event = tuple[str, str, str, float | None, datetime, str | None]

BULK = (
    "select inserted, duplicates, bulk from recsys.bulk_ingest_events("
    "%s::text[], %s::text[], %s::text[], %s::real[], %s::timestamptz[], %s::text[])"
)

# What the bulk path drops and creates again: it must come back exactly.
CATALOGUE = """
    select 'index', indexrelid::regclass::text, pg_get_indexdef(indexrelid)
      from pg_index where indrelid::regclass::text like 'recsys.%'
    union all
    select 'constraint', conrelid::regclass::text || '.' || conname, pg_get_constraintdef(oid)
      from pg_constraint where connamespace = 'recsys'::regnamespace
    union all
    select 'trigger', tgname, tgenabled::text
      from pg_trigger where tgrelid = 'recsys.events'::regclass and not tgisinternal
     order by 1, 2, 3
"""


def bulk(conn: psycopg.Connection[Any], batch: list[Event]) -> tuple[int, int, bool]:
    columns = [list(c) for c in zip(*batch, strict=True)]
    row = conn.execute(BULK, columns).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), bool(row[2])


def catalogue(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    return conn.execute(CATALOGUE).fetchall()


def add_neutral_type(conn: psycopg.Connection[Any]) -> None:
    conn.execute("select * from recsys.put_event_type('return', 'neutral', 0)")


@st.composite
def events(draw: Any, users: int = 4, items: int = 6) -> Event:
    kind = draw(st.sampled_from(TYPES))
    value = draw(st.sampled_from([0.0, 0.5, 3.5, 5.0])) if kind == "rating" else None
    if kind == "return" and draw(st.booleans()):
        value = 2.0  # a value on a type that does not use it: summed, weight unchanged
    return (
        f"u{draw(st.integers(0, users - 1))}",
        f"p{draw(st.integers(0, items - 1))}",
        kind,
        value,
        at(draw(st.integers(0, 48))),
        draw(st.none() | st.sampled_from([f"k{i}" for i in range(8)])),
    )


def test_bulk_path_equals_recompute_on_random_batches(conn):
    """Any batch into an empty shop, any pair window: the aggregates equal the
    recompute, duplicates by event_key are stored once, and the keys, indexes and
    trigger are back as they were."""
    add_neutral_type(conn)
    conn.commit()
    shape = catalogue(conn)
    examples = 0

    @settings(
        max_examples=60,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(window=st.sampled_from([0, 1, 2, 3]), batch=st.lists(events(), min_size=1, max_size=40))
    def check(window: int, batch: list[Event]) -> None:
        nonlocal examples
        examples += 1
        try:
            conn.execute("update recsys.settings set pair_window = %s", (window,))
            keys = [k for *_, k in batch if k is not None]
            new = len(batch) - (len(keys) - len(set(keys)))
            assert bulk(conn, batch) == (new, len(batch) - new, True)
            assert_exact(conn)
            assert catalogue(conn) == shape
        finally:
            conn.rollback()

    check()
    assert examples >= 60


@pytest.mark.parametrize("window", [0, 2, 7])
def test_bulk_path_equals_the_trigger_path(conn, window):
    """The same batch through the trigger (in a rolled-back savepoint) builds the same rows."""
    add_neutral_type(conn)
    conn.execute("update recsys.settings set pair_window = %s", (window,))
    rng = random.Random(window)
    batch: list[Event] = [
        (
            f"u{rng.randrange(12)}",
            f"p{rng.randrange(30)}",
            kind := rng.choice(TYPES),
            rng.randint(0, 10) / 2 if kind == "rating" else None,
            at(rng.uniform(0, 100)),
            None,
        )
        for _ in range(400)
    ]
    columns = [list(c) for c in zip(*batch, strict=True)]
    with conn.transaction(force_rollback=True):
        conn.execute(
            "select * from recsys.ingest_events(%s::text[], %s::text[], %s::text[],"
            " %s::real[], %s::timestamptz[], %s::text[])",
            columns,
        )
        by_trigger = snapshot(conn)
    assert bulk(conn, batch) == (400, 0, True)
    by_bulk = assert_exact(conn)
    # Internal ids differ between the two (the rolled-back ones were drawn): compare shapes.
    for table in by_bulk:
        assert len(by_bulk[table]) == len(by_trigger[table]), table
    assert sorted(v for v in by_bulk["item_pairs"].values()) == sorted(
        v for v in by_trigger["item_pairs"].values()
    )


def ml100k_like(seed: int) -> list[Event]:
    """Ratings 1-5 by users with long histories (several times the window), keyed."""
    rng = random.Random(seed)
    out: list[Event] = []
    for u in range(60):
        for i in rng.sample(range(150), rng.choice([5, 20, 60, 120])):
            out.append((f"u{u}", f"m{i}", "rating", float(rng.randint(1, 5)),
                        at(rng.uniform(0, 1000)), f"{u}/{i}"))  # fmt: skip
    rng.shuffle(out)
    return out


@pytest.mark.parametrize("window", [0, 10, 200])
def test_bulk_path_on_ml100k_like_ratings_with_a_pair_window(conn, window):
    conn.execute("update recsys.settings set pair_window = %s", (window,))
    batch = ml100k_like(window)
    assert bulk(conn, batch) == (len(batch), 0, True)
    got = assert_exact(conn)
    assert len(got["interactions"]) == len(batch)


def test_reimport_is_idempotent_and_takes_the_trigger_path(conn):
    batch = ml100k_like(1)
    assert bulk(conn, batch) == (len(batch), 0, True)
    conn.commit()
    before = assert_exact(conn)
    assert bulk(conn, batch) == (0, len(batch), False)
    assert assert_exact(conn) == before


def test_into_a_shop_with_events_merges_through_the_trigger(conn):
    add_neutral_type(conn)
    conn.execute("update recsys.settings set pair_window = 3")
    rng = random.Random(5)
    first = [(f"u{rng.randrange(5)}", f"p{rng.randrange(9)}", rng.choice(TYPES[:6]),
              None, at(i), None) for i in range(30)]  # fmt: skip
    first = [(u, p, t, 4.0 if t == "rating" else None, ts, k) for u, p, t, _, ts, k in first]
    assert bulk(conn, first)[2] is True
    conn.commit()
    shape = catalogue(conn)
    second = [(u.replace("u", "v") if i % 2 else u, p, t, v, at(100 + i), k)
              for i, (u, p, t, v, ts, k) in enumerate(first)]  # fmt: skip
    assert bulk(conn, second) == (30, 0, False)
    assert_exact(conn)
    assert catalogue(conn) == shape


def test_a_failed_bulk_import_writes_nothing(conn):
    conn.commit()
    shape = catalogue(conn)
    # A rating without a value is found by ingest_events, after the indexes are dropped.
    batch: list[Event] = [
        ("u", "a", "view", None, at(0), None),
        ("u", "b", "rating", None, at(1), None),
    ]
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="needs a value"):
        bulk(conn, batch)
    conn.rollback()
    for table in ("events", "users", "items", "interactions", "item_pairs", "item_stats"):
        assert conn.execute(f"select count(*) from recsys.{table}").fetchone() == (0,), table
    assert catalogue(conn) == shape
    # And the next import still takes the bulk path.
    assert bulk(conn, batch[:1]) == (1, 0, True)
    assert_exact(conn)


def test_writers_wait_for_a_bulk_import_then_merge(conn, db_url):
    """A writer during a bulk import waits for its commit, then the trigger counts it."""
    assert bulk(conn, ml100k_like(2))[2] is True  # uncommitted: the tables stay locked
    done = threading.Event()
    failures: list[BaseException] = []

    def writer() -> None:
        try:
            with psycopg.connect(db_url) as other:
                other.execute(
                    "select * from recsys.ingest_events(array['u1', 'w'], array['m1', 'm2'],"
                    " array['view', 'purchase'])"
                )
                other.commit()
        except BaseException as error:  # reported by the main thread
            failures.append(error)
        finally:
            done.set()

    with psycopg.connect(db_url, autocommit=True) as probe:
        probe.execute("set lock_timeout = '200ms'")
        # As documented: the aggregates, and the tables the events' foreign keys
        # reference, are locked for readers too; the settings are not.
        for table in ("item_pairs", "interactions", "users", "items", "event_types"):
            with pytest.raises(psycopg.errors.LockNotAvailable):
                probe.execute(f"select count(*) from recsys.{table}")
        probe.execute("select pair_window from recsys.settings")
    thread = threading.Thread(target=writer)
    thread.start()
    assert not done.wait(1.0), "the writer did not wait for the bulk import"
    conn.commit()
    assert done.wait(30) and not failures, failures
    thread.join()
    assert_exact(conn)
    assert (
        conn.execute("select count(*) from recsys.events").fetchone()[0] == len(ml100k_like(2)) + 2
    )


def test_a_writer_that_got_in_first_makes_the_import_merge(conn, db_url):
    """Uncommitted events of another writer: the import waits for them, sees them, merges."""
    with psycopg.connect(db_url) as other:
        other.execute("select * from recsys.ingest_events(array['w'], array['m1'], array['view'])")
        result: list[tuple[int, int, bool]] = []
        thread = threading.Thread(
            target=lambda: result.append(bulk(conn, [("w", "m2", "view", None, at(0), None)]))
        )
        thread.start()
        thread.join(1.0)
        assert thread.is_alive(), "the import did not wait for the writer"
        other.commit()
    thread.join(30)
    assert result == [(1, 0, False)]
    conn.commit()
    assert_exact(conn)


def test_the_bulk_path_notifies_each_user_once(conn, db_url):
    batch: list[Event] = [
        ("u1", "a", "view", None, at(0), None),
        ("u2", "a", "view", None, at(1), None),
        ("u1", "b", "purchase", None, at(2), None),
    ]
    with psycopg.connect(db_url, autocommit=True) as listener:
        listener.execute("listen recsys_events")
        assert bulk(conn, batch)[2] is True
        conn.commit()
        conn.execute("select pg_notify('recsys_events', 'sentinel')")
        conn.commit()
        got = [n.payload for n in listener.notifies(timeout=30, stop_after=3)]
    assert got[-1] == "sentinel", got
    payloads = sorted((json.loads(p) for p in got[:-1]), key=lambda p: p["user_id"])
    assert [(p["user_id"], p["product_id"], p["event_type"]) for p in payloads] == [
        ("u1", "b", "purchase"),
        ("u2", "a", "view"),
    ]
