"""Erasure: DELETE /users/{id}, recsys.forget_user and `recsys users delete`."""

from __future__ import annotations

import asyncio
import json

import httpx
import psycopg
import websockets
from click.testing import CliRunner

from app.cli import main
from tests.support.api import record, views
from tests.support.recompute import assert_exact

TIMEOUT = 10


def counts(conn: psycopg.Connection, user: str) -> tuple[int, int]:
    """(events, interactions) stored for the external user id."""
    row = conn.execute(
        "select (select count(*) from recsys.events e where e.user_id = u.id),"
        "       (select count(*) from recsys.interactions x where x.user_id = u.id)"
        "  from recsys.users u where u.external_id = %s",
        (user,),
    ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


async def seed(client) -> None:
    await record(client, views("alice", "a", "b", "c") + views("bob", "a", "b"))
    await record(client, [{"user_id": "alice", "product_id": "a", "event_type": "purchase"}])
    await record(
        client,
        [
            {
                "user_id": "carol",
                "product_id": "c",
                "event_type": "rating",
                "value": 4.5,
                "event_id": "carol-1",
            }
        ],
    )


async def test_delete_removes_the_user_and_subtracts_their_counts(client, conn):
    await seed(client)
    response = await client.delete("/users/alice")
    body = await response.get_json()
    assert response.status_code == 200, body
    assert body == {"user_id": "alice", "events": 4, "interactions": 3, "pairs": 3}
    assert counts(conn, "alice") == (0, 0)
    assert conn.execute("select 1 from recsys.users where external_id = 'alice'").fetchone() is None
    got = assert_exact(conn)
    # bob's pair (a, b) is left with one user; alice's (a, c) and (b, c) are gone.
    assert list(got["item_pairs"].values()) == [(1,)]
    item = await (await client.get("/items/a")).get_json()
    assert (item["users"], item["events"], item["purchases"]) == (1, 1, 0)


async def test_unknown_user_is_404_and_writes_nothing(client, conn):
    await seed(client)
    before = conn.execute("select count(*) from recsys.events").fetchone()
    response = await client.delete("/users/nobody")
    body = await response.get_json()
    assert response.status_code == 404
    assert body["error"]["code"] == "not_found" and body["error"]["fields"] == {
        "user_id": "unknown"
    }
    assert conn.execute("select count(*) from recsys.events").fetchone() == before


async def test_a_later_event_for_the_same_id_starts_a_new_user(client, conn):
    await seed(client)
    assert (await client.delete("/users/carol")).status_code == 200
    # The idempotency key went with the events: a retried delivery is stored again.
    again = [{"user_id": "carol", "product_id": "b", "event_type": "view", "event_id": "carol-1"}]
    assert await record(client, again) == {"inserted": 1, "duplicates": 0}
    assert counts(conn, "carol") == (1, 1)
    history = await (await client.get("/users/carol/history")).get_json()
    assert [e["product_id"] for e in history["events"]] == ["b"]
    assert_exact(conn)
    assert (await client.delete("/users/carol")).status_code == 200
    assert (await client.delete("/users/carol")).status_code == 404


async def test_erasure_deletes_the_users_model_factors(client, conn):
    await seed(client)
    run = conn.execute(
        "insert into recsys.model_runs (kind, role, params) values ('svd', 'explicit', '{}')"
        " returning id"
    ).fetchone()[0]
    conn.execute(
        "insert into recsys.user_factors (run_id, user_id, bias, factors)"
        " select %s, id, 0, '[1,2]' from recsys.users",
        (run,),
    )
    conn.commit()
    assert (await client.delete("/users/bob")).status_code == 200
    owners = conn.execute(
        "select u.external_id from recsys.user_factors f join recsys.users u on u.id = f.user_id"
        " order by 1"
    ).fetchall()
    assert owners == [("alice",), ("carol",)]


async def test_erasing_a_user_is_one_transaction(conn):
    conn.execute(
        "select recsys.ingest_events(array['u','u','v','v'], array['a','b','a','b'],"
        " array['view','view','view','view'])"
    )
    conn.commit()
    with psycopg.connect(conn.info.dsn) as other:
        other.execute("select * from recsys.forget_user('u')")
        # Not committed: another session still sees every count of u.
        assert counts(conn, "u") == (2, 2)
        pairs = conn.execute("select users from recsys.item_pairs").fetchall()
        conn.rollback()
        assert pairs == [(2,)]
        other.rollback()
    assert counts(conn, "u") == (2, 2)
    assert_exact(conn)


def test_cli_users_delete(db_url, conn, monkeypatch):
    monkeypatch.setenv("REC_DATABASE_URL", db_url)
    conn.execute(
        "select recsys.ingest_events(array['u','u'], array['a','b'], array['view','purchase'])"
    )
    conn.commit()
    runner = CliRunner()
    done = runner.invoke(main, ["users", "delete", "u"])
    assert done.exit_code == 0, done.output
    assert "erased u: 2 events, 2 interactions, 1 item pairs changed" in done.output
    missing = runner.invoke(main, ["users", "delete", "u"])
    assert missing.exit_code == 1 and "unknown user_id 'u'" in missing.output
    assert_exact(conn)


async def next_event(ws, name):
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
        if message["event"] == name:
            return message


async def test_a_watched_user_gets_history_free_recommendations_after_erasure(served, db_url):
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "select recsys.ingest_events(%s, %s, %s)",
            (["w", "w", "x", "x", "y"], ["a", "b", "a", "b", "c"], ["view"] * 5),
        )
    async with websockets.connect(served.ws_url) as ws:
        await ws.send(json.dumps({"event": "register_user", "data": {"user_id": "w"}}))
        await next_event(ws, "registered")
        before = await next_event(ws, "realtime_recommendation")
        assert {r["product_id"] for r in before["data"]["recommendations"]} == {"c"}
        async with httpx.AsyncClient(base_url=served.url) as http:
            assert (await http.delete("/users/w")).status_code == 200
        # A push of w's old list may still be in flight (the seed's notification);
        # the erasure's own push follows it, and is the last word.
        while True:
            push = await next_event(ws, "realtime_recommendation")
            recommendations = push["data"]["recommendations"]
            if all("new user" in r["reason"] for r in recommendations):
                break
    # Nothing of w's erased history shapes the list: popular items, a and b included.
    assert {r["product_id"] for r in recommendations} == {"a", "b", "c"}
