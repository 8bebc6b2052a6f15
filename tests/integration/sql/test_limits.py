"""The limits of app/config.py and the SQL that enforces or mirrors them agree."""

from __future__ import annotations

import psycopg
import pytest

from app.config import MAX_ID, MAX_K
from app.training import hybrid

INGEST = "select * from recsys.ingest_events(%s, %s, %s, event_keys => %s)"


@pytest.mark.parametrize("role", ["user", "product", "event"])
def test_the_schema_takes_ids_up_to_max_id_characters(conn, role):
    def ingest(length: int) -> None:
        ids = {"user": "u1", "product": "p1", "event": None, role: role[0] * length}
        conn.execute(INGEST, ([ids["user"]], [ids["product"]], ["view"], [ids["event"]]))

    ingest(MAX_ID)
    conn.commit()
    with pytest.raises(psycopg.errors.CheckViolation):
        ingest(MAX_ID + 1)


def test_recsys_check_k_takes_every_k_the_api_does(conn):
    conn.execute("select recsys.check_k(%s)", (MAX_K,))
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        conn.execute("select recsys.check_k(0)")


def test_hybrid_training_mirrors_the_sql_defaults(conn):
    row = conn.execute(
        "select extract(epoch from popularity_half_life)::float8, recent_items from recsys.settings"
    ).fetchone()
    assert row == (hybrid.HALF_LIFE_S, hybrid.RECENT)
    for function in ("behavior_based", "recent_embedded"):
        source = conn.execute(
            "select prosrc from pg_proc where oid = %s::regproc", (f"recsys.{function}",)
        ).fetchone()
        assert source is not None and f"power({hybrid.DECAY}," in source[0], function
