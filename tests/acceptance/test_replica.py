"""Reads from a real streaming replica (REC_REPLICA_URLS): a replica made with
pg_basebackup from the embedded server's own binaries, the app writing to the
primary and reading recommendations from the replica.

- GET /recommend reads on the replica, every variant the same list as the
  primary's; its ledger row is on the primary;
- POST /event's answer and the push after it see the event just written: the
  read waits for the replica to replay the commit, or falls back to the
  primary when replay is paused (a lagging replica);
- a replica that is down sends the reads to the primary; LISTEN stays there.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
import websockets
from psycopg.rows import dict_row

from app import recommenders
from app.db import migrate
from app.db.replicas import LAGGING, REPLICA, UNREACHABLE
from app.recommenders.base import Exposure, Query
from benchmarks.standby import Primary, Replica
from tests.support.served import served
from tests.support.sockets import next_event, register

TIMEOUT = 10


@pytest.fixture
def cluster() -> Iterator[tuple[Primary, Replica]]:
    root = Path(tempfile.mkdtemp(prefix="recsys-replica-"))
    primary = Primary(root)
    migrate.upgrade(primary.url)
    with psycopg.connect(primary.url) as conn:
        # b goes with a (x and y saw both); a is far more popular alone.
        users = ["x", "x", "y", "y", *(f"fan{i}" for i in range(8))]
        items = ["a", "b", "a", "b", *(["a"] * 8)]
        conn.execute(
            "select recsys.ingest_events(%s, %s, array_fill('view'::text, array[%s]))",
            (users, items, len(users)),
        )
    replica = Replica(primary, root)
    yield primary, replica
    try:
        with contextlib.suppress(Exception):  # a failed test may have left it stopped
            replica.stop()
    finally:
        primary.cleanup()
        shutil.rmtree(root, ignore_errors=True)


def first(answer: httpx.Response) -> str:
    assert answer.status_code in (200, 201), answer.text
    return str(answer.json()["recommendations"][0]["product_id"])


async def test_reads_go_to_the_replica_and_see_their_writes(cluster, tmp_path):
    primary, replica = cluster
    overrides = {"replica_urls": (replica.url,), "replica_wait": 5.0}
    async with (
        served(primary.url, tmp_path, **overrides) as app,
        httpx.AsyncClient(base_url=app.url, timeout=TIMEOUT) as http,
    ):
        reads = app.app.extensions["recsys.shops"].default.reads
        # An unknown user gets popular: a first.
        popular = {"user_id": "u", "case": "popular"}
        assert first(await http.get("/recommend", params=popular)) == "a"
        assert reads.where == {REPLICA: 1}
        # Every list read on the replica is the primary's own (recsys.serve there).
        async with await psycopg.AsyncConnection.connect(primary.url, row_factory=dict_row) as conn:
            for name, (case, method) in recommenders.VARIANTS.items():
                query = Query(user_id="x", method=method)
                on_primary = await recommenders.serve(
                    conn, case, query, Exposure("recommend", log=False)
                )
                params = {"user_id": "x", "case": case, **({"method": method} if method else {})}
                answer = (await http.get("/recommend", params=params)).json()
                assert [r["product_id"] for r in answer["recommendations"]] == [
                    r.product_id for r in on_primary.recommendations
                ], name
        recomm_id = (await http.get("/recommend", params={"user_id": "u"})).json()["recomm_id"]
        with psycopg.connect(primary.url) as conn:
            logged = conn.execute(
                "select count(*) from recsys.exposures where recomm_id = %s", (recomm_id,)
            ).fetchone()
        assert logged == (1,)  # the ledger is written on the primary

        # POST /event's answer sees the event (a read before replay would give
        # popular's a): behavior_based from a, a itself left out.
        event = {"user_id": "u", "product_id": "a", "event_type": "view"}
        before = reads.where[REPLICA]
        assert first(await http.post("/event", json=event)) == "b"
        assert reads.where[REPLICA] == before + 1

        # The push after an event, read on the replica, sees it too.
        async with websockets.connect(app.ws_url) as ws:
            await register(ws, "v")
            before = reads.where[REPLICA]
            await http.post("/event", json={**event, "user_id": "v"})
            push = await next_event(ws, "realtime_recommendation")
            assert push["data"]["recommendations"][0]["product_id"] == "b"
            assert reads.where[REPLICA] > before

        # Replay paused: the replica lags, the answer comes from the primary, still fresh.
        with psycopg.connect(replica.url, autocommit=True) as conn:
            conn.execute("select pg_wal_replay_pause()")
            try:
                app.app.extensions["recsys.shops"].default.reads.wait = 0.2
                lagging = reads.where[LAGGING]
                assert first(await http.post("/event", json={**event, "user_id": "w"})) == "b"
                assert reads.where[LAGGING] == lagging + 1
            finally:
                conn.execute("select pg_wal_replay_resume()")

        # The replica down: reads fall back to the primary.
        await asyncio.to_thread(replica.stop)
        replica_reads = reads.where[REPLICA]
        assert first(await http.get("/recommend", params={**popular, "user_id": "z"})) == "a"
        assert reads.where[UNREACHABLE] == 1 and reads.where[REPLICA] == replica_reads
        await asyncio.to_thread(replica.start)
