"""recsys.neighbor_lists: the refreshed read cache behavior_based scores from."""

from __future__ import annotations

import random
from typing import Any

import psycopg
import pytest

from tests.support.events import Event, at, ingest

Rows = list[tuple[Any, ...]]


def shop(seed: int, users: int = 40, items: int = 30, events: int = 600) -> list[Event]:
    rng = random.Random(seed)
    weights = [1 / (i + 1) for i in range(items)]
    out: list[Event] = []
    for n in range(events):
        item = rng.choices(range(items), weights)[0]
        kind = rng.choice(["view", "view", "add_to_cart", "purchase"])
        out.append((f"u{rng.randrange(users)}", f"p{item}", kind, None, at(n / 10)))
    return out


def recommend(conn: psycopg.Connection[Any], user: str, measure: str | None = None) -> Rows:
    return conn.execute(
        "select product_id, score, reason from recsys.behavior_based(%s, 10, measure => %s)",
        (user, measure),
    ).fetchall()


def refresh(conn: psycopg.Connection[Any], everything: bool = False) -> int:
    row = conn.execute(
        "select recsys.refresh_neighbor_lists_since(everything => %s)", (everything,)
    ).fetchone()
    assert row is not None
    return int(row[0])


def same(left: Rows, right: Rows) -> None:
    assert [r[0] for r in left] == [r[0] for r in right]
    assert [r[1] for r in left] == pytest.approx([r[1] for r in right])
    assert [r[2] for r in left] == [r[2] for r in right]


def test_untruncated_lists_give_exactly_the_live_ranking(conn):
    ingest(conn, shop(1))
    users = [f"u{n}" for n in range(40)]
    live = {u: recommend(conn, u) for u in users}
    conn.execute("update recsys.settings set neighbor_list_size = 1000")
    assert refresh(conn) == conn.execute("select count(*) from recsys.item_stats").fetchone()[0]
    for user in users:
        same(recommend(conn, user), live[user])


def test_lists_keep_the_most_similar_neighbours_in_order(conn):
    ingest(conn, shop(2))
    conn.execute("update recsys.settings set neighbor_list_size = 5")
    refresh(conn)
    rows = conn.execute(
        "select i.external_id, l.neighbors, l.similarities from recsys.neighbor_lists l"
        " join recsys.items i on i.id = l.item_id"
    ).fetchall()
    assert rows
    for product, neighbours, sims in rows:
        expected = conn.execute(
            "select i.id, s.score from recsys.similar_items(%s, 5) s"
            " join recsys.items i on i.external_id = s.product_id",
            (product,),
        ).fetchall()
        assert neighbours == [r[0] for r in expected]
        assert sims == pytest.approx([r[1] for r in expected])


def test_incremental_refresh_redoes_only_the_touched_items(conn):
    ingest(conn, shop(3))
    refresh(conn)
    before = dict(conn.execute("select item_id, refreshed_at from recsys.neighbor_lists"))
    assert refresh(conn) == 0  # nothing new
    ingest(conn, [("u1", "p7", "purchase", None, at(100)), ("u2", "p7", "view", None, at(100))])
    conn.commit()  # a new transaction: a fresh now() for refreshed_at
    assert refresh(conn) == 1
    after = dict(conn.execute("select item_id, refreshed_at from recsys.neighbor_lists"))
    p7 = conn.execute("select id from recsys.items where external_id = 'p7'").fetchone()[0]
    assert [item for item in after if after[item] != before.get(item)] == [p7]
    state = conn.execute("select through_event from recsys.neighbor_lists_state").fetchone()
    assert state[0] == conn.execute("select max(id) from recsys.events").fetchone()[0]


def together(conn: psycopg.Connection[Any], user: str) -> list[str]:
    """The behaviour-based part of a list (popular items top it up)."""
    return [r[0] for r in recommend(conn, user) if r[2].startswith("often together")]


def view(user: str, product: str, hours: float) -> Event:
    return (user, product, "view", None, at(hours))


def test_listed_items_are_stale_until_refreshed_new_items_are_live(conn):
    ingest(conn, [view("a", "x", 0), view("a", "y", 1), view("b", "x", 2), view("c", "z", 3)])
    refresh(conn)
    ingest(conn, [view("d", "x", 4), view("d", "z", 5)])  # x and z now co-occur
    assert together(conn, "b") == ["y"]  # x's list predates it
    refresh(conn)
    assert sorted(together(conn, "b")) == ["y", "z"]
    # "w" has no list yet: its neighbours come live from item_pairs.
    ingest(conn, [view("e", "w", 6), view("e", "y", 7), view("f", "w", 8)])
    assert together(conn, "f") == ["y"]


def test_another_measure_is_scored_live(conn):
    ingest(conn, shop(5))
    live = {u: recommend(conn, u, "jaccard") for u in ("u1", "u2", "u3")}
    refresh(conn)  # cosine lists
    for user, rows in live.items():
        same(recommend(conn, user, "jaccard"), rows)


def test_items_without_pairs_get_empty_lists(conn):
    ingest(conn, [view("a", "x", 0), view("a", "y", 1), view("b", "z", 2)])
    assert refresh(conn) == 3
    lists = dict(
        conn.execute(
            "select i.external_id, cardinality(l.neighbors) from recsys.neighbor_lists l"
            " join recsys.items i on i.id = l.item_id"
        ).fetchall()
    )
    assert lists == {"x": 1, "y": 1, "z": 0}


LISTED_PAIRS = """
select l.item_id, n.neighbor_id
  from recsys.neighbor_lists l, unnest(l.neighbors) as n(neighbor_id)
"""


def test_an_erasure_drops_the_lists_it_changed_and_the_next_refresh_rebuilds_them(conn):
    ingest(conn, shop(7))
    conn.execute("update recsys.settings set neighbor_list_size = 1000")
    refresh(conn)
    before = set(conn.execute(LISTED_PAIRS).fetchall())
    conn.execute("select * from recsys.forget_user('u3')")
    kept = conn.execute("select item_id from recsys.neighbor_lists").fetchall()
    assert len(kept) < conn.execute("select count(*) from recsys.item_stats").fetchone()[0]
    assert refresh(conn) > 0  # no new events: the dropped lists alone
    rebuilt = conn.execute(
        "select item_id, neighbors from recsys.neighbor_lists where item_id <> all(%s)"
        " order by item_id",
        ([k[0] for k in kept],),
    ).fetchall()
    refresh(conn, everything=True)
    assert (
        rebuilt
        == conn.execute(
            "select item_id, neighbors from recsys.neighbor_lists where item_id = any(%s)"
            " order by item_id",
            ([r[0] for r in rebuilt],),
        ).fetchall()
    )
    # Pairs only u3 held are gone from every list.
    after = set(conn.execute(LISTED_PAIRS).fetchall())
    assert after < before


async def test_one_refresher_at_a_time_across_instances(db_url):
    from app.db import neighbors
    from app.db.pool import open_pool

    with psycopg.connect(db_url, autocommit=True) as setup:
        ingest(setup, shop(6))
    pool = await open_pool(db_url, 1, 2)
    try:
        with psycopg.connect(db_url) as other:
            other.execute("select pg_advisory_xact_lock(7303475812)")  # another instance refreshing
            assert await neighbors.refresh(pool) is None
        assert await neighbors.refresh(pool) == 30
        assert await neighbors.refresh(pool) == 0
    finally:
        await pool.close()


def similar(conn: psycopg.Connection[Any], product: str, **filters: Any) -> Rows:
    return conn.execute(
        "select product_id, score, reason from recsys.similar_items(%s, 10,"
        " category => %s, exclude => %s)",
        (product, filters.get("category"), filters.get("exclude", [])),
    ).fetchall()


def test_similar_items_from_lists_equals_live_ranking(conn):
    ingest(conn, shop(8))
    products = [f"p{n}" for n in range(0, 30, 3)]
    live = {p: similar(conn, p) for p in products}
    conn.execute("update recsys.settings set neighbor_list_size = 1000")
    refresh(conn)
    for product in products:
        same(similar(conn, product), live[product])


def test_similar_items_ranks_live_beyond_a_list_the_filters_emptied(conn):
    ingest(conn, shop(9))
    conn.execute("update recsys.settings set neighbor_list_size = 3")
    refresh(conn)
    listed = [r[0] for r in similar(conn, "p0")][:3]
    conn.execute("delete from recsys.neighbor_lists")
    live = similar(conn, "p0", exclude=listed)
    refresh(conn)
    assert similar(conn, "p0", exclude=listed) == live
    assert len(live) == 10


def test_an_erasure_waits_for_a_running_refresh(db_url):
    with psycopg.connect(db_url, autocommit=True) as setup:
        ingest(setup, shop(10))
        refresh(setup)
    with psycopg.connect(db_url) as refresher, psycopg.connect(db_url) as eraser:
        refresher.execute("select pg_advisory_xact_lock(7303475812)")  # mid-refresh
        eraser.execute("set statement_timeout = '300ms'")
        with pytest.raises(psycopg.errors.QueryCanceled):
            eraser.execute("select * from recsys.forget_user('u1')")
        eraser.rollback()
        refresher.commit()
        eraser.execute("select * from recsys.forget_user('u1')")
        eraser.commit()
        assert (
            eraser.execute("select 1 from recsys.users where external_id = 'u1'").fetchall() == []
        )


def test_a_list_emptied_by_unavailable_items_ranks_every_candidate(conn):
    ingest(conn, shop(11, users=30, items=300, events=3000))
    refresh(conn)
    ranked = [
        r[0]
        for r in conn.execute(
            "select product_id from recsys.behavior_based('u1', 1000) where reason like 'often%'"
        )
    ]
    cap = (
        5
        + 10
        + conn.execute("select n_items from recsys.users where external_id = 'u1'").fetchone()[0]
    )
    assert len(ranked) > cap + 5  # else the first pass could not run short
    conn.execute(
        "update recsys.items set available = false where external_id = any(%s)", (ranked[:cap],)
    )
    top = conn.execute("select product_id, reason from recsys.behavior_based('u1', 5)").fetchall()
    assert [r[0] for r in top] == ranked[cap : cap + 5]
    assert all(r[1].startswith("often together") for r in top)
