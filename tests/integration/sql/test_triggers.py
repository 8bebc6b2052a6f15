"""recsys.on_events_inserted keeps interactions, item_stats and item_pairs exact.

Every test writes events one way or another and compares the trigger-maintained tables
with the reference recompute in recompute.py, which reads recsys.events alone.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from typing import Any

import psycopg
import pytest

from tests.support.events import T0, Event, at, ingest
from tests.support.recompute import assert_exact, snapshot

TYPES = {"view": 1, "add_to_cart": 2, "purchase": 3, "rating": 4}


def ids(conn: psycopg.Connection[Any], users: Sequence[str], products: Sequence[str]) -> dict:
    """Creates users and items (if new); maps external ids to internal ids."""
    conn.execute(
        "insert into recsys.users (external_id) select unnest(%s::text[]) on conflict do nothing",
        (list(users),),
    )
    conn.execute(
        "insert into recsys.items (external_id) select unnest(%s::text[]) on conflict do nothing",
        (list(products),),
    )
    rows = conn.execute(
        "select 'u:' || external_id, id from recsys.users"
        " union all select 'i:' || external_id, id from recsys.items"
    ).fetchall()
    return dict(rows)


def raw_rows(conn: psycopg.Connection[Any], events: Sequence[Event]) -> list[tuple]:
    """Events as recsys.events rows (user_id, item_id, type_id, value, ts)."""
    m = ids(conn, [e[0] for e in events], [e[1] for e in events])
    return [(m["u:" + u], m["i:" + p], TYPES[t], v, ts or T0) for u, p, t, v, ts in events]


def insert_rows(conn: psycopg.Connection[Any], events: Sequence[Event]) -> None:
    """One multi-row INSERT statement."""
    rows = raw_rows(conn, events)
    values = ", ".join(["(%s, %s, %s, %s::real, %s)"] * len(rows))
    conn.execute(
        "insert into recsys.events (user_id, item_id, type_id, value, ts) values " + values,
        [x for r in rows for x in r],
    )


def copy_rows(conn: psycopg.Connection[Any], events: Sequence[Event]) -> None:
    rows = raw_rows(conn, events)
    with (
        conn.cursor() as cur,
        cur.copy("copy recsys.events (user_id, item_id, type_id, value, ts) from stdin") as copy,
    ):
        for r in rows:
            copy.write_row(r)


def pairs(got: dict) -> dict[tuple[int, int], int]:
    return {k: v[0] for k, v in got["item_pairs"].items()}


def random_batch(rng: random.Random, n: int, users: int, items: int) -> list[Event]:
    out: list[Event] = []
    for _ in range(n):
        kind = rng.choice(["view", "view", "view", "add_to_cart", "purchase", "rating"])
        value = rng.randint(1, 10) / 2 if kind == "rating" else None
        ts = at(rng.uniform(-24 * 60, 24 * 60))
        out.append((f"u{rng.randrange(users)}", f"p{rng.randrange(items)}", kind, value, ts))
    return out


# ----------------------------------------------------------------- writes paths


def test_single_insert_of_one_event(conn):
    ((user, item, type_id, _, ts),) = raw_rows(conn, [("alice", "book", "purchase", None, at(1))])
    conn.execute(
        "insert into recsys.events (user_id, item_id, type_id, ts) values (%s, %s, %s, %s)",
        (user, item, type_id, ts),
    )
    got = assert_exact(conn)
    assert got["interactions"][(user, item)][:3] == (1, 5.0, 1)  # seq, score, events
    assert got["item_stats"][(item,)][:2] == (1, 1)  # users, events
    assert got["item_pairs"] == {}


def test_multi_row_insert(conn):
    insert_rows(
        conn,
        [
            ("alice", "a", "view", None, at(0)),
            ("alice", "b", "view", None, at(1)),
            ("alice", "a", "add_to_cart", None, at(2)),
            ("alice", "c", "rating", 4.5, at(3)),
            ("bob", "b", "view", None, at(0)),
            ("bob", "c", "purchase", None, at(-5)),
        ],
    )
    got = assert_exact(conn)
    assert len(got["interactions"]) == 5
    assert sorted(pairs(got).values()) == [1, 1, 2]


def test_ingest_events_batches(conn):
    assert ingest(
        conn,
        [
            ("u1", "a", "view", None, at(0)),
            ("u1", "b", "rating", 3.5, at(1)),
            ("u2", "a", "purchase", None, at(2)),
            ("u2", "b", "add_to_cart", None, at(3)),
            ("u2", "b", "rating", 1.0, at(4)),
        ],
    ) == (5, 0)
    now = [("u3", "a", "view", None, None), ("u3", "b", "view", None, None)]  # ts: now()
    assert ingest(conn, now) == (2, 0)
    got = assert_exact(conn)
    assert list(pairs(got).values()) == [3]


def test_copy(conn):
    events = random_batch(random.Random(7), 200, users=15, items=25)
    copy_rows(conn, events)
    got = assert_exact(conn)
    assert sum(r[2] for r in got["interactions"].values()) == 200  # events
    assert got["item_pairs"]


def test_copy_then_insert_then_ingest_revisit_same_users_and_items(conn):
    rng = random.Random(11)
    copy_rows(conn, random_batch(rng, 60, users=5, items=12))
    assert_exact(conn)
    insert_rows(conn, random_batch(rng, 40, users=5, items=12))
    assert_exact(conn)
    ingest(conn, random_batch(rng, 50, users=7, items=15))
    assert_exact(conn)


def test_successive_batches_revisiting_users_and_items(conn):
    batches = [
        [("u1", "a", "view", None, at(0)), ("u2", "a", "view", None, at(0))],
        [("u1", "b", "view", None, at(1)), ("u1", "a", "purchase", None, at(2))],
        [("u2", "b", "add_to_cart", None, at(1)), ("u2", "c", "view", None, at(2))],
        [("u1", "c", "rating", 5.0, at(3)), ("u1", "b", "rating", 2.0, at(4))],
        [("u2", "a", "rating", 0.5, at(5)), ("u3", "c", "view", None, at(6))],
    ]
    for batch in batches:
        ingest(conn, batch)
        got = assert_exact(conn)
    assert len(got["item_pairs"]) == 3
    assert set(pairs(got).values()) == {2}


def test_same_item_twice_in_one_batch_is_one_new_interaction(conn):
    ingest(conn, [("u", "a", "view", None, at(0))] * 3 + [("u", "b", "view", None, at(0))] * 2)
    got = assert_exact(conn)
    assert sorted(r[0] for r in got["interactions"].values()) == [1, 2]
    assert list(pairs(got).values()) == [1]


# ------------------------------------------------------------------ pair window


def test_small_pair_window(conn):
    conn.execute("update recsys.settings set pair_window = 2")
    ingest(conn, [("u1", f"p{i}", "view", None, at(i)) for i in range(4)])
    ingest(conn, [("u1", f"p{i}", "view", None, at(i)) for i in range(2, 7)])
    ingest(conn, [("u2", f"p{i}", "view", None, at(i)) for i in (6, 5, 4, 3)])
    got = assert_exact(conn)
    m = ids(conn, [], [])
    assert (m["i:p0"], m["i:p2"]) in got["item_pairs"]
    assert (m["i:p0"], m["i:p3"]) not in got["item_pairs"]
    assert pairs(got)[(m["i:p4"], m["i:p5"])] == 2


def test_pair_window_spanning_batches(conn):
    conn.execute("update recsys.settings set pair_window = 3")
    for start in range(0, 12, 2):
        ingest(conn, [(u, f"p{start + j}", "view", None, at(start)) for u in "xy" for j in (0, 1)])
        got = assert_exact(conn)
    assert len(got["item_pairs"]) == 11 + 10 + 9


@pytest.mark.parametrize(("seed", "window"), [(1, 0), (2, 1), (3, 2), (4, 3), (5, 200)])
def test_random_batches(conn, seed, window):
    conn.execute("update recsys.settings set pair_window = %s", (window,))
    rng = random.Random(seed)
    for step in range(6):
        batch = random_batch(rng, rng.randint(1, 80), users=8, items=30)
        [ingest, insert_rows, copy_rows][step % 3](conn, batch)
        assert_exact(conn)


# ------------------------------------------------------- transactions and notify


def test_rolled_back_insert_leaves_aggregates_unchanged(conn):
    ingest(conn, random_batch(random.Random(3), 40, users=4, items=10))
    conn.commit()
    before = assert_exact(conn)
    ingest(conn, random_batch(random.Random(4), 40, users=6, items=12))
    assert snapshot(conn) != before
    conn.rollback()
    assert assert_exact(conn) == before


def test_duplicate_event_keys_count_once(conn):
    sql = "select * from recsys.ingest_events(%s, %s, %s, null, null, %s)"
    args = (["u", "u"], ["a", "b"], ["view", "purchase"], ["k1", "k2"])
    assert conn.execute(sql, args).fetchone() == (2, 0)
    before = assert_exact(conn)
    assert conn.execute(sql, args).fetchone() == (0, 2)
    assert assert_exact(conn) == before


def test_bad_batch_writes_nothing(conn):
    ingest(conn, [("u", "a", "view", None, at(0))])
    conn.commit()
    before = assert_exact(conn)
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        ingest(conn, [("u", "b", "view", None, at(1)), ("u", "c", "rating", None, at(2))])
    conn.rollback()
    assert assert_exact(conn) == before
    assert conn.execute("select count(*) from recsys.items").fetchone() == (1,)


NOTIFY_BATCH: list[Event] = [
    ("u1", "a", "view", None, at(0)),
    ("u2", "a", "view", None, at(1)),
    ("u1", "b", "purchase", None, at(2)),
    ("u3", "c", "add_to_cart", None, at(3)),
    ("u2", "b", "view", None, at(4)),
    ("u3", "a", "view", None, at(5)),
]


def test_notify_once_per_affected_user(conn, db_url):
    batch = NOTIFY_BATCH
    with psycopg.connect(db_url, autocommit=True) as listener:
        listener.execute("listen recsys_events")
        ingest(conn, [("ghost", "a", "view", None, at(0))])
        conn.rollback()  # a rolled-back batch notifies nobody
        ingest(conn, batch)
        conn.commit()
        # A sentinel from a later transaction: everything before it has been delivered.
        conn.execute("select pg_notify('recsys_events', 'sentinel')")
        conn.commit()
        got = [n.payload for n in listener.notifies(timeout=30, stop_after=4)]
    assert got[-1] == "sentinel", got
    payloads = [json.loads(p) for p in got[:-1]]
    assert sorted(p["user_id"] for p in payloads) == ["u1", "u2", "u3"]
    for p in payloads:
        assert set(p) == {"type", "user_id", "product_id", "event_type"}
        assert p["type"] == "event"
        assert (p["user_id"], p["product_id"], p["event_type"]) in {b[:3] for b in batch}
