"""Negative feedback: an item the user disliked or hid never comes back to them,
from any strategy, push or SQL function; it builds no co-occurrence; and its
neighbours are demoted."""

import httpx
import pytest
import websockets

from app import recommenders
from tests.support.api import ids, recommend
from tests.support.events import ingest, upsert_items
from tests.support.recompute import assert_exact
from tests.support.sockets import next_event, register

SHOP = ["a", "b", "c", "d", "e", "f"]


def shop(conn):
    """Everyone chose a, b, c, d together; b is the most popular."""
    upsert_items(conn, *({"product_id": p, "title": p, "categories": ["all"]} for p in SHOP))
    rows = []
    for n in range(6):
        for p in ("a", "b", "c", "d", "b"):
            rows.append((f"u{n}", p, "view", None, None))
    rows.append(("u9", "e", "view", None, None))
    ingest(conn, rows)
    conn.commit()


@pytest.mark.parametrize("name", list(recommenders.VARIANTS))
@pytest.mark.parametrize("negative", ["dislike", "hide"])
def test_no_strategy_returns_a_rejected_item(conn, name, negative):
    shop(conn)
    ingest(conn, [("me", "a", "view", None, None), ("me", "b", negative, None, None)])
    case, method = recommenders.VARIANTS[name]
    for include_seen in (False, True):
        rows = conn.execute(
            "select product_id from recsys.recommend('me', 100, %s, include_seen => %s,"
            " method => coalesce(%s, 'adaptive'))",
            (case, include_seen, method),
        ).fetchall()
        assert "b" not in [r[0] for r in rows]
        assert rows, "the rest of the catalogue still comes"
    popular = conn.execute("select product_id from recsys.popular(100, for_user => 'me')")
    assert "b" not in [r[0] for r in popular.fetchall()]


def test_a_negative_event_builds_no_interaction_and_no_pair(conn):
    shop(conn)
    before = conn.execute("select count(*), sum(users) from recsys.item_pairs").fetchone()
    ingest(conn, [("u0", "e", "dislike", None, None), ("new", "a", "hide", None, None)])
    assert conn.execute("select count(*), sum(users) from recsys.item_pairs").fetchone() == before
    assert conn.execute(
        "select count(*) from recsys.interactions x join recsys.users u on u.id = x.user_id"
        " where u.external_id = 'new'"
    ).fetchone() == (0,)
    assert conn.execute(
        "select u.external_id, i.external_id, t.name from recsys.rejections r"
        "  join recsys.users u on u.id = r.user_id join recsys.items i on i.id = r.item_id"
        "  join recsys.event_types t on t.id = r.type_id order by 1"
    ).fetchall() == [("new", "a", "hide"), ("u0", "e", "dislike")]
    assert_exact(conn)


def test_neighbours_of_a_disliked_item_are_demoted(conn):
    # x was chosen with p by 3 users, with q by 1: cosine ranks p first (0.67
    # against 0.45). y was chosen with p by its only user: disliking y (weight
    # 1 here) takes 1 x cos(y, p) = 0.5 from p, more than x's ln 2 x 0.67 gives it.
    conn.execute("select recsys.put_event_type('dislike', 'negative', 1)")
    rows = []
    for n in range(3):
        rows += [(f"p{n}", "x", "view", None, None), (f"p{n}", "p", "view", None, None)]
    rows += [("q0", "x", "view", None, None), ("q0", "q", "view", None, None)]
    rows += [("y0", "y", "view", None, None), ("y0", "p", "view", None, None)]
    ingest(conn, [*rows, ("me", "x", "view", None, None)])

    def scores():
        query = "select product_id, score, reason from recsys.behavior_based('me', 2)"
        return {r[0]: (r[1], r[2]) for r in conn.execute(query).fetchall()}

    before = scores()
    assert before["p"][0] > before["q"][0] and before["p"][1].startswith("often together")
    ingest(conn, [("me", "y", "dislike", None, None)])
    after = scores()
    assert after["q"] == before["q"], "q has no pair with y: untouched"
    assert not after["p"][1].startswith("often together"), "p fell out of the candidates"
    # Weight 0 keeps the exclusion (y never comes back) and drops the demotion.
    conn.execute("select recsys.put_event_type('dislike', 'negative', 0)")
    assert scores() == before


async def test_the_api_and_the_push_never_offer_a_disliked_item(served, db_url):
    import psycopg

    with psycopg.connect(db_url) as conn:
        shop(conn)
    async with websockets.connect(served.ws_url) as ws:
        await register(ws, "me")
        async with httpx.AsyncClient(base_url=served.url) as http:
            response = await http.post(
                "/event", json={"user_id": "me", "product_id": "b", "event_type": "dislike"}
            )
            answer = response.json()
            listed = (await http.get("/recommend", params={"user_id": "me", "k": 100})).json()
        push = await next_event(ws, "realtime_recommendation")
    assert response.status_code == 201
    assert "b" not in ids(answer["recommendations"])
    assert "b" not in ids(listed["recommendations"]) and listed["recommendations"]
    assert "b" not in ids(push["data"]["recommendations"])


async def test_recommend_for_a_user_who_rejected_everything_is_empty_not_an_error(client, conn):
    upsert_items(conn, {"product_id": "only"})
    conn.commit()
    ingest(conn, [("me", "only", "hide", None, None)])
    conn.commit()
    assert await recommend(client, user_id="me", case="popular") == []
