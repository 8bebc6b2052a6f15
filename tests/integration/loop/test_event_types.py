"""Event types are data: created, changed (rebuilding what their events built)
and deleted through the admin API and the CLI."""

from tests.support.api import get_json, post_events, record, views
from tests.support.recompute import assert_exact


async def test_seeded_types_are_listed_with_their_events(client, conn):
    await record(client, views("u1", "a", "b") + views("u1", "a", event_type="dislike"))
    body = await get_json(client, "/admin/event-types")
    types = {t["name"]: t for t in body["event_types"]}
    assert list(types) == ["view", "add_to_cart", "purchase", "rating", "dislike", "hide"]
    assert types["view"] == {
        "name": "view",
        "kind": "positive",
        "weight": 1.0,
        "uses_value": False,
        "conversion": False,
        "events": 2,
    }
    assert types["purchase"]["conversion"] and types["rating"]["uses_value"]
    assert types["dislike"]["kind"] == "negative" and types["dislike"]["events"] == 1


async def test_a_new_type_takes_events_at_once(client, conn):
    response = await client.put("/admin/event-types/wishlist", json={"weight": 2})
    assert response.status_code == 201, await response.get_json()
    await record(client, views("u1", "a", event_type="wishlist"))
    score = conn.execute("select score from recsys.interactions").fetchone()
    assert score == (2.0,)
    again = await client.put("/admin/event-types/wishlist", json={"weight": 2})
    assert again.status_code == 200
    assert (await again.get_json())["rebuilt_users"] == 0


async def test_changing_a_weight_rebuilds_scores_exactly(client, conn):
    await record(client, views("u1", "a", "b") + views("u2", "a", event_type="add_to_cart"))
    response = await client.put("/admin/event-types/add_to_cart", json={"weight": 10})
    body = await response.get_json()
    assert response.status_code == 200 and body["rebuilt_users"] == 1
    assert conn.execute(
        "select score from recsys.interactions x join recsys.users u on u.id = x.user_id"
        " where u.external_id = 'u2'"
    ).fetchone() == (10.0,)
    assert_exact(conn)


async def test_turning_a_positive_type_negative_rebuilds_pairs_and_rejections(client, conn):
    await client.put("/admin/event-types/skip", json={"weight": 1})
    await record(client, views("u1", "a", "b", "c") + views("u1", "d", event_type="skip"))
    assert conn.execute("select count(*) from recsys.item_pairs").fetchone() == (6,)
    response = await client.put("/admin/event-types/skip", json={"kind": "negative"})
    assert response.status_code == 200
    conn.rollback()
    assert conn.execute("select count(*) from recsys.item_pairs").fetchone() == (3,)
    assert conn.execute("select count(*) from recsys.rejections").fetchone() == (1,)
    assert_exact(conn)


async def test_bad_definitions_are_400_and_write_nothing(client, conn):
    before = conn.execute("select count(*) from recsys.event_types").fetchone()
    for name, body, field in [
        ("Bad-Name", {}, "name"),
        ("ok", {"kind": "angry"}, "kind"),
        ("ok", {"weight": -1}, "weight"),
        ("ok", {"kind": "negative", "conversion": True}, "body"),
        ("ok", {"colour": "red"}, "colour"),
    ]:
        response = await client.put(f"/admin/event-types/{name}", json=body)
        error = (await response.get_json())["error"]
        assert response.status_code == 400, error
        assert any(field in key for key in error["fields"]), error
    assert conn.execute("select count(*) from recsys.event_types").fetchone() == before


async def test_a_type_in_use_cannot_be_deleted(client, conn):
    await client.put("/admin/event-types/share", json={})
    await record(client, views("u1", "a", event_type="share"))
    response = await client.delete("/admin/event-types/share")
    error = (await response.get_json())["error"]
    assert response.status_code == 409 and "1 events" in error["message"]
    await client.put("/admin/event-types/unused", json={"kind": "neutral"})
    assert (await client.delete("/admin/event-types/unused")).status_code == 204
    assert (await client.delete("/admin/event-types/unused")).status_code == 404


async def test_an_unknown_type_in_a_batch_names_it(client, conn):
    response = await post_events(client, views("u1", "a", event_type="wishlist"))
    error = (await response.get_json())["error"]
    assert response.status_code == 400 and "wishlist" in error["message"]


async def test_neutral_events_are_counted_and_nothing_else(client, conn):
    await client.put("/admin/event-types/impression", json={"kind": "neutral"})
    await record(client, views("u1", "a", event_type="impression"))
    assert conn.execute("select count(*) from recsys.interactions").fetchone() == (0,)
    assert conn.execute("select events from recsys.item_type_stats").fetchone() == (1,)
    item = await get_json(client, "/items/a")
    assert item["counts"] == {"impression": 1} and item["views"] == 0
