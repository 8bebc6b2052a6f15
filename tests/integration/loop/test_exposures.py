"""The exposure ledger: every served list has a recomm_id and one row in
recsys.exposures; erasure and retention remove them; REC_EXPOSURES=false logs none."""

from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import websockets

from app import create_app
from app.jobs import retention
from tests.support.api import get_json, post_event, record, views
from tests.support.events import seed
from tests.support.sockets import next_event, register


def ledger(conn):
    conn.rollback()
    return conn.execute(
        "select recomm_id::text, user_id, surface, case_name, method, page,"
        "       array_agg(product_id order by position)"
        "  from recsys.exposure_items"
        " group by recomm_id, user_id, surface, case_name, method, page, served_at"
        " order by served_at"
    ).fetchall()


async def test_each_http_list_is_logged_once_with_its_items(client, conn, db_url):
    seed(db_url)
    body = await get_json(client, "/recommend", user_id="x", case="hybrid", k=3)
    similar = await get_json(client, "/items/a/similar", k=2)
    answer = await (
        await post_event(client, user_id="x", product_id="c", event_type="view")
    ).get_json()
    realtime = await get_json(client, "/realtime-recommend", user_id="y", k=2)
    rows = ledger(conn)
    assert [r[:6] for r in rows] == [
        (body["recomm_id"], "x", "recommend", "hybrid", "adaptive", 1),
        (similar["recomm_id"], None, "similar", "similar", "cooccurrence", 1),
        (answer["recomm_id"], "x", "event", "behavior_based", None, 1),
        (realtime["recomm_id"], "y", "realtime", "behavior_based", None, 1),
    ]
    shown = [body, similar, answer, realtime]
    assert [r[6] for r in rows] == [[i["product_id"] for i in b["recommendations"]] for b in shown]


async def test_every_push_is_logged(served, db_url):
    seed(db_url)
    async with websockets.connect(served.ws_url) as ws:
        _, initial = await register(ws, "y")
        async with httpx.AsyncClient(base_url=served.url) as http:
            await http.post(
                "/event", json={"user_id": "y", "product_id": "c", "event_type": "view"}
            )
        push = await next_event(ws, "realtime_recommendation")
    with psycopg.connect(db_url) as conn:
        pushes = conn.execute(
            "select recomm_id::text from recsys.exposures where surface = 'push' order by served_at"
        ).fetchall()
    assert [r[0] for r in pushes][:2] == [initial["data"]["recomm_id"], push["data"]["recomm_id"]]


async def test_the_ledger_can_be_switched_off(db_url, tmp_path):
    seed(db_url)
    application = create_app(
        {"database_url": db_url, "data_dir": tmp_path, "neighbor_refresh": None, "exposures": False}
    )
    async with application.test_app() as app:
        body = await get_json(app.test_client(), "/recommend", user_id="x")
    assert body["recomm_id"] and body["recommendations"]
    with psycopg.connect(db_url) as conn:
        assert conn.execute("select count(*) from recsys.exposures").fetchone() == (0,)


async def test_erasure_removes_the_users_exposures(client, conn, db_url):
    seed(db_url)
    await get_json(client, "/recommend", user_id="x")
    await get_json(client, "/recommend", user_id="y")
    assert (await client.delete("/users/x")).status_code == 200
    assert [r[1] for r in ledger(conn)] == ["y"]


async def test_retention_prunes_old_exposures(client, conn, db_url):
    await record(client, views("u1", "a", "b"))
    await get_json(client, "/recommend", user_id="u1", case="popular")
    await get_json(client, "/recommend", user_id="u2", case="popular")
    conn.execute(
        "update recsys.exposures set served_at = now() - interval '40 days'"
        " where user_external_id = 'u1'"
    )
    conn.commit()
    done = retention.prune(db_url, datetime.now(UTC) - timedelta(days=30))
    assert done.exposures == 1
    assert [r[1] for r in ledger(conn)] == ["u2"]


async def test_the_ledger_commits_asynchronously_in_its_own_transaction_only(conn, db_url):
    from app import recommenders
    from app.db import queries
    from app.recommenders.base import Exposure, Query

    seed(db_url)
    params = {
        **recommenders.ranked_params("popular", Query(user_id="x", k=2)),
        **recommenders.ledger_params(
            "00000000-0000-4000-8000-000000000001", "popular", Query(), Exposure("sql")
        ),
    }
    async with await psycopg.AsyncConnection.connect(db_url) as a:
        # The test server runs with it off everywhere; a production session has it on.
        await a.execute("set synchronous_commit = on")
        await a.commit()
        await a.execute(queries.get("serve"), params)
        during = await (await a.execute("show synchronous_commit")).fetchone()
        await a.commit()
        after = await (await a.execute("show synchronous_commit")).fetchone()
    assert (during, after) == (("off",), ("on",))
