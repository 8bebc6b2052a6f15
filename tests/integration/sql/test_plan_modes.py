"""behavior_based keeps one generic plan per session (migration 0010_plans):
its lists must be those of a plan made for each call, on every path the plan
covers (neighbour lists, live pairs, cross-occurrence from lists and live)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from tests.integration.sql.test_neighbor_lists import Rows, recommend, refresh, same, shop
from tests.support.events import ingest

FUNCTION = "recsys.behavior_based(text, integer, text[], text, boolean, text)"
USERS = [f"u{n}" for n in range(40)]


def lists(conn: psycopg.Connection[Any], mode: str) -> dict[str, Rows]:
    conn.execute(f"alter function {FUNCTION} set plan_cache_mode = {mode}")
    # Six calls and more: past the five custom plans PL/pgSQL makes before it
    # settles on a cached one.
    return {u: recommend(conn, u) for u in USERS}


def test_the_function_is_planned_generically(conn):
    row = conn.execute(
        "select proconfig from pg_proc where oid = %s::regprocedure", (FUNCTION,)
    ).fetchone()
    assert row is not None and "plan_cache_mode=force_generic_plan" in row[0]


@pytest.mark.parametrize("cross_weight", [0.0, 0.5])
@pytest.mark.parametrize("from_lists", [True, False])
def test_generic_and_custom_plans_give_the_same_lists(conn, from_lists, cross_weight):
    ingest(conn, shop(7))
    conn.execute("update recsys.settings set cross_weight = %s", (cross_weight,))
    if from_lists:
        refresh(conn, everything=True)
    generic = lists(conn, "force_generic_plan")
    custom = lists(conn, "force_custom_plan")
    assert any(generic.values())
    for user in USERS:
        same(generic[user], custom[user])


def test_live_cross_occurrence_reads_only_the_source_items_pairs(conn):
    """cross_similarities of one item equals the whole table's rows of that item:
    its `items is null` branch folds per call, as PL/pgSQL with custom plans."""
    ingest(conn, shop(8))
    everything = conn.execute(
        "select source_item, source_type, target_item, sim"
        "  from recsys.cross_similarities(null, 'cosine', null) order by 1, 2, 3"
    ).fetchall()
    assert everything
    item = everything[0][0]
    one = conn.execute(
        "select source_item, source_type, target_item, sim"
        "  from recsys.cross_similarities(array[%s]::bigint[], 'cosine', null) order by 1, 2, 3",
        (item,),
    ).fetchall()
    assert one == [r for r in everything if r[0] == item]
