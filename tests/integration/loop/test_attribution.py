"""Attribution: an event carries the recomm_id of the list it answers, or is
credited on ingest to the latest list that showed its item to the user within
the window; the loop views count what each list earned."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.support.api import get_json, ids, record, views
from tests.support.events import upsert_items


@pytest.fixture
async def lists(client, conn):
    """u1 is shown L1 = p0 p1 p2, views p1 (credited to L1), is shown L2 = p0 p2 p3."""
    upsert_items(conn, *({"product_id": f"p{n}"} for n in range(8)))
    conn.commit()
    rows = [e for n in range(8) for e in views(f"fan{n}", *([f"p{n}"] * (8 - n)))]
    await record(client, rows)
    first = await get_json(client, "/recommend", user_id="u1", case="popular", k=3)
    await record(client, views("u1", "p1"))
    second = await get_json(client, "/recommend", user_id="u1", case="popular", k=3)
    assert ids(first["recommendations"]) == ["p0", "p1", "p2"]
    assert ids(second["recommendations"]) == ["p0", "p2", "p3"]
    return first["recomm_id"], second["recomm_id"]


def credited(conn):
    conn.rollback()
    return conn.execute(
        "select user_id, product_id, event_type, recomm_id::text, position"
        "  from recsys.attributions order by event_id"
    ).fetchall()


async def test_credit_goes_to_the_named_list_or_the_latest_that_showed_the_item(
    client, conn, lists
):
    l1, l2 = lists
    later = (datetime.now(UTC) + timedelta(hours=25)).isoformat()
    await record(
        client,
        [
            {"user_id": "u1", "product_id": "p2", "event_type": "purchase"},  # L2, latest
            {"user_id": "u1", "product_id": "p0", "event_type": "add_to_cart", "recomm_id": l1},
            {"user_id": "u1", "product_id": "p3", "event_type": "dislike"},  # negative: no credit
            {"user_id": "u1", "product_id": "p7", "event_type": "view"},  # never shown
            {"user_id": "u2", "product_id": "p0", "event_type": "view"},  # shown to u1 only
            {"user_id": "u1", "product_id": "p0", "event_type": "view", "timestamp": later},
        ],
    )
    assert credited(conn) == [
        ("u1", "p1", "view", l1, 2),
        ("u1", "p2", "purchase", l2, 2),
        ("u1", "p0", "add_to_cart", l1, 1),
    ]
    assert conn.execute(
        "select lists, impressions, clicks, carts, purchases, ctr, conversion"
        "  from recsys.loop_by_case where case_name = 'popular'"
    ).fetchone() == (2, 6, 3, 1, 1, Decimal("0.5000"), Decimal("0.1667"))
    by_position = conn.execute(
        "select position, impressions, clicks, purchases from recsys.loop_by_position order by 1"
    ).fetchall()
    assert by_position == [(1, 2, 1, 0), (2, 2, 2, 1), (3, 2, 0, 0)]
    day = conn.execute("select day, lists, clicks from recsys.loop_by_day").fetchall()
    assert [r[1:] for r in day] == [(2, 3)]


async def test_a_recomm_id_of_another_list_keeps_its_word(client, conn, lists):
    l1, _ = lists
    await record(
        client, [{"user_id": "u1", "product_id": "p5", "event_type": "view", "recomm_id": l1}]
    )
    # The client said L1: stored as sent, with no position (p5 was not in it).
    assert credited(conn)[-1] == ("u1", "p5", "view", l1, None)
    assert conn.execute("select clicks from recsys.loop_by_case").fetchone() == (1,)


async def test_the_window_is_configurable(client, conn, lists):
    conn.execute("update recsys.settings set attribution_window = interval '1 minute'")
    conn.commit()
    later = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()
    await record(
        client, [{"user_id": "u1", "product_id": "p3", "event_type": "view", "timestamp": later}]
    )
    assert len(credited(conn)) == 1  # only the fixture's view of p1


async def test_a_malformed_recomm_id_is_400_and_writes_nothing(client, conn, lists):
    before = conn.execute("select count(*) from recsys.events").fetchone()
    response = await client.post(
        "/event",
        json={"user_id": "u1", "product_id": "p4", "event_type": "view", "recomm_id": "x"},
    )
    assert response.status_code == 400
    assert "recomm_id" in (await response.get_json())["error"]["fields"]
    conn.rollback()
    assert conn.execute("select count(*) from recsys.events").fetchone() == before
