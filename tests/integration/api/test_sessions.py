"""Anonymous sessions, merging a visitor into a user at login, similar users,
and items bought together in one basket."""

from __future__ import annotations

from datetime import timedelta

from tests.support.api import count, error_of, fields_of, get_json, ids
from tests.support.events import T0, ingest, upsert_items
from tests.support.recompute import assert_exact


def shop(conn) -> None:
    """a and b are chosen together by four users, c and d by two; e alone."""
    upsert_items(conn, *({"product_id": p, "title": p.upper()} for p in "abcde"))
    rows = [(f"u{n}", p, "view", None, None) for n in range(4) for p in "ab"]
    rows += [(f"v{n}", p, "view", None, None) for n in range(2) for p in "cd"]
    rows += [("w", "e", "view", None, None)]
    ingest(conn, rows)
    conn.commit()


async def test_a_session_needs_no_user_and_follows_its_items(client, conn):
    shop(conn)
    users = count(conn, "users")
    response = await client.post(
        "/recommend/session",
        json={
            "items": [{"product_id": "c"}, {"product_id": "a", "event_type": "add_to_cart"}],
            "k": 4,
        },
    )
    body = await response.get_json()
    assert response.status_code == 200, body
    got = body["recommendations"]
    assert ids(got)[:2] == ["b", "d"]
    assert got[0]["reason"] == "often together with A"
    assert got[2]["reason"].endswith("(new session)")
    assert not {"a", "c"} & set(ids(got))
    assert count(conn, "users") == users
    more = await get_json(client, "/recommend/next", recomm_id=body["recomm_id"], k=2)
    assert not set(ids(more["recommendations"])) & set(ids(got))
    bad = await client.post(
        "/recommend/session", json={"items": [{"product_id": "a", "event_type": "stare"}]}
    )
    assert "items" in fields_of(await error_of(bad, 400))


async def test_merge_folds_an_anonymous_visitor_into_a_user_and_counts_stay_exact(client, conn):
    shop(conn)
    ingest(
        conn,
        [
            ("anon-1", "c", "view", None, None),
            ("anon-1", "a", "purchase", None, None),
            ("alice", "a", "view", None, None),
            ("alice", "e", "view", None, None),
        ],
    )
    conn.commit()
    response = await client.post("/users/alice/merge", json={"from": "anon-1"})
    body = await response.get_json()
    assert response.status_code == 200, body
    assert body == {"user_id": "alice", "merged_from": "anon-1", "events": 2}
    conn.rollback()
    assert_exact(conn)
    history = await get_json(client, "/users/alice/history")
    assert sorted(e["product_id"] for e in history["events"]) == ["a", "a", "c", "e"]
    await error_of(await client.get("/users/anon-1/history"), 404)
    # A new user is created by the merge; an unknown anonymous id is a 404.
    assert (await client.post("/users/bob/merge", json={"from": "w"})).status_code == 200
    conn.rollback()
    assert_exact(conn)
    gone = await client.post("/users/bob/merge", json={"from": "nobody"})
    assert "from" in fields_of(await error_of(gone, 404))
    itself = await client.post("/users/bob/merge", json={"from": "bob"})
    await error_of(itself, 400)


async def test_similar_users_share_items_niche_ones_counting_more(client, conn):
    shop(conn)
    ingest(conn, [("me", "a", "view", None, None), ("me", "c", "view", None, None)])
    conn.commit()
    body = await get_json(client, "/users/me/similar", k=3)
    similar = body["similar"]
    # c has 3 users, a has 5: a v-user (sharing c) ranks above a u-user (sharing a).
    assert [s["user_id"][0] for s in similar[:3]] == ["v", "v", "u"]
    assert all(s["shared"] == 1 for s in similar)
    await error_of(await client.get("/users/ghost/similar"), 404)


async def test_bought_together_groups_purchases_into_baskets(client, conn):
    upsert_items(conn, *({"product_id": p} for p in "pqrs"))
    at = T0
    rows = [
        ("x", "p", "purchase", None, at),
        ("x", "q", "purchase", None, at),
        ("y", "p", "purchase", None, at),
        ("y", "q", "purchase", None, at + timedelta(minutes=30)),
        # r was bought by y the next day: another basket; s only viewed.
        ("y", "r", "purchase", None, at + timedelta(days=1)),
        ("x", "s", "view", None, at),
    ]
    ingest(conn, rows)
    conn.commit()
    body = await get_json(client, "/items/p/bought-together")
    assert ids(body["recommendations"]) == ["q"]
    assert body["recommendations"][0]["reason"] == "bought together in 2 baskets"
    assert body["case"] == "bought_together"
    conn.execute("update recsys.settings set basket_gap = '2 days'")
    conn.commit()
    assert ids((await get_json(client, "/items/p/bought-together"))["recommendations"]) == [
        "q",
        "r",
    ]
    await error_of(await client.get("/items/nope/bought-together"), 404)
