"""Cross-occurrence: views and carts that predict purchases, kept exact by the
trigger, served as "viewed, then bought" lists and inside behaviour-based lists."""

from __future__ import annotations

from tests.support.api import error_of, fields_of, get_json, ids
from tests.support.events import ingest, upsert_items
from tests.support.recompute import assert_exact


def viewers_shop(conn) -> None:
    """Six users viewed a: four of them bought b, one bought c; c is also bought
    by six users who never viewed a, and d only viewed with a."""
    upsert_items(
        conn,
        *(
            {"product_id": p, "title": p.upper(), "categories": ["x" if p != "d" else "y"]}
            for p in "abcd"
        ),
    )
    rows = [(f"u{n}", "a", "view", None, None) for n in range(6)]
    rows += [(f"u{n}", "b", "purchase", None, None) for n in range(4)]
    rows += [("u4", "c", "purchase", None, None), ("u5", "d", "view", None, None)]
    rows += [(f"w{n}", "c", "purchase", None, None) for n in range(6)]
    ingest(conn, rows)
    conn.commit()


async def test_then_bought_ranks_what_the_viewers_bought_by_llr(client, conn):
    viewers_shop(conn)
    body = await get_json(client, "/items/a/then-bought")
    got = body["recommendations"]
    # c was bought by one viewer of a and by six others: less than chance for
    # a's viewers, so it is not listed; d was only viewed.
    assert ids(got) == ["b"]
    assert got[0]["reason"] == "bought by 4 users after view"
    assert got[0]["score"] > 0
    assert body["case"] == "then_bought"
    more = await get_json(client, "/recommend/next", recomm_id=body["recomm_id"])
    assert more["recommendations"] == []
    other = await get_json(client, "/items/a/then-bought", category="y")
    assert other["recommendations"] == []
    conn.rollback()
    assert_exact(conn)


async def test_then_bought_refuses_what_cannot_lead_to_a_purchase(client, conn):
    viewers_shop(conn)
    for after in ("purchase", "dislike", "stare"):
        bad = await client.get("/items/a/then-bought", query_string={"after": after})
        assert "after" in fields_of(await error_of(bad, 400)), after
    await error_of(await client.get("/items/nope/then-bought"), 404)
    carted = await get_json(client, "/items/a/then-bought", after="add_to_cart")
    assert carted["recommendations"] == []


def tie_shop(conn) -> None:
    """me viewed a. Four users viewed a and bought b, five viewed a and c: c
    co-occurs with a more, but only b is a purchase after a view."""
    upsert_items(conn, *({"product_id": p, "title": p.upper()} for p in "acb"))
    rows = [("me", "a", "view", None, None)]
    bought = (("a", "view"), ("b", "purchase"))
    rows += [(f"u{n}", p, t, None, None) for n in range(4) for p, t in bought]
    rows += [(f"v{n}", p, "view", None, None) for n in range(5) for p in "ac"]
    ingest(conn, rows)
    conn.commit()


async def test_cross_occurrence_lifts_what_viewers_bought_in_behavior_based_lists(client, conn):
    tie_shop(conn)

    async def listed() -> list[dict]:
        body = await get_json(client, "/recommend", user_id="me", k=2, case="behavior_based")
        return body["recommendations"]

    conn.execute("update recsys.settings set cross_weight = 0")
    conn.commit()
    assert ids(await listed()) == ["c", "b"]
    conn.execute("update recsys.settings set cross_weight = 2")
    conn.commit()
    for refreshed in (False, True):
        got = await listed()
        assert ids(got) == ["b", "c"], refreshed
        assert got[0]["reason"] == "often bought after A"
        assert got[1]["reason"] == "often together with A"
        conn.execute("select recsys.refresh_neighbor_lists_since(everything => true)")
        conn.commit()
    lists = conn.execute("select count(*) from recsys.cross_lists").fetchone()
    assert lists == (1,)


async def test_changing_a_type_into_a_conversion_rebuilds_cross_occurrence(client, conn):
    tie_shop(conn)
    before = conn.execute("select count(*) from recsys.cross_pairs").fetchone()
    assert before == (1,)  # a (view) -> b (purchase)
    response = await client.put(
        "/admin/event-types/view", json={"kind": "positive", "weight": 1, "conversion": True}
    )
    assert response.status_code == 200, await response.get_json()
    conn.rollback()
    assert conn.execute("select count(*) from recsys.cross_pairs").fetchone() == (0,)
    assert_exact(conn)
