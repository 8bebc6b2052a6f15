"""case=trending (a jump against the item's own baseline) and case=latest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.api import ids, recommend
from tests.support.events import ingest, upsert_items

NOW = datetime.now(UTC)


def hours_ago(h: float) -> datetime:
    return NOW - timedelta(hours=h)


def shop(conn) -> None:
    """steady: 2 views a day for 8 days; jump: none, then 5 in the last day;
    slow-riser: 1 a day, then 2; old-hit: 10 a day long ago, nothing lately."""
    upsert_items(
        conn,
        {"product_id": "steady", "categories": ["a"]},
        {"product_id": "jump", "categories": ["b"]},
        {"product_id": "slow-riser", "categories": ["a"]},
        {"product_id": "old-hit", "categories": ["a"]},
    )
    events = [
        (f"s{d}{n}", "steady", "view", None, hours_ago(24 * d + 1))
        for d in range(8)
        for n in range(2)
    ]
    events += [(f"j{n}", "jump", "view", None, hours_ago(2)) for n in range(5)]
    events += [(f"r{d}", "slow-riser", "view", None, hours_ago(24 * d + 3)) for d in range(1, 8)]
    events += [(f"r{n}x", "slow-riser", "view", None, hours_ago(1)) for n in range(2)]
    events += [(f"o{n}", "old-hit", "view", None, hours_ago(24 * 30)) for n in range(10)]
    ingest(conn, events)
    conn.commit()


def rows(conn, query: str, *args):
    return conn.execute("select * from " + query, args).fetchall()


def test_trending_ranks_jumps_against_each_items_own_baseline(conn):
    shop(conn)
    got = rows(conn, "recsys.trending(4)")
    assert [r[0] for r in got[:2]] == ["jump", "slow-riser"]
    assert got[0][2] == "trending: 5.0 in the last 1 day, none usual"
    assert got[1][2] == "trending: 2.0 in the last 1 day, 2.0x usual"
    # steady is as busy as always, old-hit quiet: popular fills, saying why.
    assert {r[0] for r in got[2:]} == {"steady", "old-hit"}
    assert all(r[2].endswith("(nothing trending)") for r in got[2:])
    assert [r[0] for r in rows(conn, "recsys.trending(1, 'a')")] == ["slow-riser"]
    assert [r[0] for r in rows(conn, "recsys.trending(1, exclude => array['jump'])")] == [
        "slow-riser"
    ]
    # `at` moves the window: a month ago, old-hit was the jump.
    past = rows(conn, "recsys.trending(1, at => %s)", hours_ago(24 * 30 - 1))
    assert past[0][0] == "old-hit"


def test_trending_leaves_out_what_the_user_touched(conn):
    shop(conn)
    ingest(conn, [("me", "jump", "view", None, None)])
    assert "jump" not in [r[0] for r in rows(conn, "recsys.trending(4, for_user => 'me')")]


def test_latest_is_the_newest_on_sale(conn):
    upsert_items(
        conn,
        {"product_id": "old", "available_from": (NOW - timedelta(days=9)).isoformat()},
        {
            "product_id": "new",
            "available_from": (NOW - timedelta(days=1)).isoformat(),
            "categories": ["x"],
        },
        {"product_id": "soon", "available_from": (NOW + timedelta(days=1)).isoformat()},
        {"product_id": "gone", "expires_at": (NOW - timedelta(days=1)).isoformat()},
    )
    conn.commit()
    got = rows(conn, "recsys.latest(10)")
    assert [r[0] for r in got] == ["new", "old"]
    assert got[0][2] == "new: since " + (NOW - timedelta(days=1)).strftime("%Y-%m-%d")
    assert [r[0] for r in rows(conn, "recsys.latest(10, 'x')")] == ["new"]


async def test_trending_and_latest_are_cases_of_the_api(client, conn):
    shop(conn)
    assert ids(await recommend(client, case="trending", k=2)) == ["jump", "slow-riser"]
    rules = '{"filter": {"field": "categories", "op": "contains", "value": "a"}}'
    assert ids(await recommend(client, case="trending", k=1, rules=rules)) == ["slow-riser"]
    latest = await recommend(client, case="latest", k=4, user_id="j0")
    assert "jump" not in ids(latest) and len(latest) == 3
