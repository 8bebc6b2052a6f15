"""The reference recompute: every trigger-maintained aggregate, derived from recsys.events alone.

`assert_exact(conn)` compares what the trigger wrote with what these queries compute.
Keys and integer/text/timestamp columns must match exactly; floating-point columns within
a relative 1e-12 (incremental log-sum-exp and one-shot log-sum-exp differ in the last bits).
"""

from __future__ import annotations

import math
from typing import Any

import psycopg

# One CTE chain per aggregate, all reading recsys.events, recsys.event_types and
# recsys.settings only; never recsys.log_weight or any other function under test.
_WEIGHTED = """
    weighted as (
        select e.*,
               t.weight::float8
                   * case when t.uses_value then coalesce(e.value, 0)::float8 else 1 end as w
          from recsys.events e
          join recsys.event_types t on t.id = e.type_id
    )
"""

REFERENCE: dict[str, str] = {
    # (user_id, item_id) -> seq, score, counts per type, last_value, first_ts, last_ts
    "interactions": f"""
        with {_WEIGHTED}
        select user_id, item_id,
               rank() over (partition by user_id order by min(id))::int as seq,
               sum(w) as score,
               count(*)::int as events,
               (count(*) filter (where type_id = 1))::int as views,
               (count(*) filter (where type_id = 2))::int as carts,
               (count(*) filter (where type_id = 3))::int as purchases,
               (count(*) filter (where type_id = 4))::int as ratings,
               (array_agg(value order by id desc) filter (where value is not null))[1]
                   as last_value,
               min(ts) as first_ts,
               max(ts) as last_ts
          from weighted
         group by user_id, item_id
    """,
    # item_id -> users, counts per type, rating_sum, score, log_popularity, last_ts
    "item_stats": f"""
        with {_WEIGHTED},
        logged as (
            select w.*,
                   case when w.w > 0
                        then ln(w.w) + ln(2) * extract(epoch from w.ts)::float8
                                         / extract(epoch from s.popularity_half_life)::float8
                   end as lw
              from weighted w cross join recsys.settings s
        ),
        topped as (
            select l.*, max(lw) over (partition by item_id) as lw_top from logged l
        )
        select item_id,
               count(distinct user_id)::int as users,
               count(*)::bigint as events,
               count(*) filter (where type_id = 1) as views,
               count(*) filter (where type_id = 2) as carts,
               count(*) filter (where type_id = 3) as purchases,
               count(*) filter (where type_id = 4) as ratings,
               coalesce(sum(value::float8) filter (where type_id = 4), 0) as rating_sum,
               sum(w) as score,
               max(lw_top) + ln(sum(exp(lw - lw_top))) as log_popularity,
               max(ts) as last_ts
          from topped
         group by item_id
    """,
    # (item_a, item_b) -> users: for each user, distinct items ranked by first event id;
    # x at rank i and y at rank j (i < j) count when pair_window = 0 or j - i <= pair_window.
    "item_pairs": """
        with ranked as (
            select user_id, item_id,
                   row_number() over (partition by user_id order by min(id)) as seq
              from recsys.events
             group by user_id, item_id
        )
        select least(x.item_id, y.item_id) as item_a,
               greatest(x.item_id, y.item_id) as item_b,
               count(*)::int as users
          from ranked x
          join ranked y on y.user_id = x.user_id and x.seq < y.seq
          cross join recsys.settings s
         where s.pair_window = 0 or y.seq - x.seq <= s.pair_window
         group by 1, 2
    """,
    # user id -> distinct items touched (the next new item's seq - 1)
    "users": """
        select u.id, (select count(distinct e.item_id) from recsys.events e
                       where e.user_id = u.id)::int as n_items
          from recsys.users u
    """,
}

ACTUAL: dict[str, str] = {
    "interactions": """
        select user_id, item_id, seq, score, events, views, carts, purchases, ratings,
               last_value, first_ts, last_ts
          from recsys.interactions
    """,
    "item_stats": """
        select item_id, users, events, views, carts, purchases, ratings, rating_sum, score,
               log_popularity, last_ts
          from recsys.item_stats
    """,
    "item_pairs": "select item_a, item_b, users from recsys.item_pairs",
    "users": "select id, n_items from recsys.users",
}

# Number of leading columns forming each table's key.
KEYS = {"interactions": 2, "item_stats": 1, "item_pairs": 2, "users": 1}

Rows = dict[tuple[Any, ...], tuple[Any, ...]]


def _fetch(conn: psycopg.Connection[Any], query: str, n_key: int) -> Rows:
    rows = conn.execute(query).fetchall()
    out = {tuple(r[:n_key]): tuple(r[n_key:]) for r in rows}
    assert len(out) == len(rows), "duplicate keys"
    return out


def snapshot(conn: psycopg.Connection[Any]) -> dict[str, Rows]:
    """What the trigger maintains, table by table."""
    return {t: _fetch(conn, q, KEYS[t]) for t, q in ACTUAL.items()}


def reference(conn: psycopg.Connection[Any]) -> dict[str, Rows]:
    """The same tables recomputed from recsys.events."""
    return {t: _fetch(conn, q, KEYS[t]) for t, q in REFERENCE.items()}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)
    return bool(a == b)


def differences(actual: Rows, expected: Rows) -> list[str]:
    out = [f"missing {k}: expected {expected[k]}" for k in expected.keys() - actual.keys()]
    out += [f"extra {k}: {actual[k]}" for k in actual.keys() - expected.keys()]
    for k in actual.keys() & expected.keys():
        a, e = actual[k], expected[k]
        if len(a) != len(e) or not all(_same(x, y) for x, y in zip(a, e, strict=True)):
            out.append(f"{k}: got {a}, expected {e}")
    return sorted(out)


def assert_exact(conn: psycopg.Connection[Any]) -> dict[str, Rows]:
    """Asserts the trigger-maintained tables equal the recompute; returns the snapshot."""
    actual, expected = snapshot(conn), reference(conn)
    report = {t: differences(actual[t], expected[t]) for t in ACTUAL}
    report = {t: d[:10] for t, d in report.items() if d}
    assert not report, report
    return actual
