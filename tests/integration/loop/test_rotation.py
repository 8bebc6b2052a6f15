"""rotation=0..1 demotes items shown to the user recently that they did not touch."""

import pytest

from tests.support.api import get_json, ids, record, views
from tests.support.events import upsert_items

CATALOGUE = [f"p{n}" for n in range(8)]


@pytest.fixture
async def shop(client, conn):
    upsert_items(conn, *({"product_id": p} for p in CATALOGUE))
    conn.commit()
    # p0 is the most popular, then p1, ...
    rows = [e for n, p in enumerate(CATALOGUE) for e in views(f"fan{n}", *([p] * (8 - n)))]
    await record(client, rows)


async def lst(client, **params):
    body = await get_json(client, "/recommend", user_id="me", case="popular", k=3, **params)
    return ids(body["recommendations"])


async def test_rotation_1_shows_fresh_items_first(client, shop):
    assert await lst(client) == ["p0", "p1", "p2"]
    assert await lst(client, rotation=1) == ["p3", "p4", "p5"]
    # p0..p2 and p3..p5 shown once each now: p6, p7 come first, then p0.
    assert await lst(client, rotation=1) == ["p6", "p7", "p0"]


async def test_rotation_0_repeats_the_list(client, shop):
    assert await lst(client) == await lst(client) == ["p0", "p1", "p2"]


async def test_half_rotation_trades_rank_against_showings(client, shop):
    await lst(client)
    # Shown once: ranks 1, 2, 3 weigh 2, 4, 6; p3 (rank 4) ties p1 and loses on rank.
    assert await lst(client, rotation=0.5) == ["p0", "p1", "p3"]


async def test_an_item_touched_after_it_was_shown_is_not_demoted(client, conn, shop):
    await lst(client)
    # me views p1 (now seen, excluded) - the others keep their demotion.
    await record(client, views("me", "p1"))
    assert await lst(client, rotation=1) == ["p3", "p4", "p5"]


async def test_rotation_outside_0_1_is_400(client, shop):
    body = await get_json(client, "/recommend", expected=400, user_id="me", rotation=2)
    assert "rotation" in body["error"]["fields"]
