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
# interactions, item_stats, item_pairs and users.n_items hold positive events only.
_WEIGHTED = """
    weighted as (
        select e.*, t.conversion, t.uses_value,
               t.weight::float8
                   * case when t.uses_value then coalesce(e.value, 0)::float8 else 1 end as w
          from recsys.events e
          join recsys.event_types t on t.id = e.type_id
         where t.kind = 'positive'
    )
"""

# Each user's distinct positively touched items, ranked by first event id: the
# order the pair window counts in (interactions.seq).
_RANKED = """
    ranked as (
        select e.user_id, e.item_id,
               row_number() over (partition by e.user_id order by min(e.id)) as seq
          from recsys.events e
          join recsys.event_types t on t.id = e.type_id
         where t.kind = 'positive'
         group by e.user_id, e.item_id
    )
"""

REFERENCE: dict[str, str] = {
    # (user_id, item_id) -> seq, score, events, conversions, last_value, first_ts, last_ts
    "interactions": f"""
        with {_WEIGHTED}
        select user_id, item_id,
               rank() over (partition by user_id order by min(id))::int as seq,
               sum(w) as score,
               count(*)::int as events,
               (count(*) filter (where conversion))::int as conversions,
               (array_agg(value order by id desc)
                   filter (where uses_value and value is not null))[1] as last_value,
               min(ts) as first_ts,
               max(ts) as last_ts
          from weighted
         group by user_id, item_id
    """,
    # item_id -> users, events, score, log_popularity, last_ts
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
               sum(w) as score,
               max(lw_top) + ln(sum(exp(lw - lw_top))) as log_popularity,
               max(ts) as last_ts
          from topped
         group by item_id
    """,
    # (item_id, type_id) -> events, value_sum, distinct users: every kind
    "item_type_stats": """
        select item_id, type_id, count(*)::bigint as events,
               coalesce(sum(value::float8), 0) as value_sum,
               count(distinct user_id)::int as users
          from recsys.events
         group by item_id, type_id
    """,
    # (user_id, item_id, type_id): every kind
    "user_item_types": """
        select distinct user_id, item_id, type_id from recsys.events
    """,
    # (source_item, source_type, target_type, target_item) -> users: for each user,
    # positive (item, type) rows, items ranked by first event id as for item_pairs; a
    # non-conversion type on x and a conversion type on y != x count when
    # pair_window = 0 or |rank(x) - rank(y)| <= pair_window.
    "cross_pairs": f"""
        with {_RANKED},
        typed as (
            select distinct e.user_id, e.item_id, e.type_id, t.conversion
              from recsys.events e
              join recsys.event_types t on t.id = e.type_id
             where t.kind = 'positive'
        )
        select x.item_id, x.type_id, y.type_id, y.item_id, count(*)::int as users
          from typed x
          join ranked rx on rx.user_id = x.user_id and rx.item_id = x.item_id
          join typed y on y.user_id = x.user_id and y.item_id <> x.item_id
          join ranked ry on ry.user_id = y.user_id and ry.item_id = y.item_id
          cross join recsys.settings s
         where not x.conversion and y.conversion
           and (s.pair_window = 0 or abs(rx.seq - ry.seq) <= s.pair_window)
         group by 1, 2, 3, 4
    """,
    # (user_id, item_id) -> the latest negative event's type and time
    "rejections": """
        select distinct on (e.user_id, e.item_id) e.user_id, e.item_id, e.type_id, e.ts
          from recsys.events e
          join recsys.event_types t on t.id = e.type_id
         where t.kind = 'negative'
         order by e.user_id, e.item_id, e.ts desc, e.id desc
    """,
    # (item_a, item_b) -> users: for each user, distinct items ranked by first event id;
    # x at rank i and y at rank j (i < j) count when pair_window = 0 or j - i <= pair_window.
    "item_pairs": f"""
        with {_RANKED}
        select least(x.item_id, y.item_id) as item_a,
               greatest(x.item_id, y.item_id) as item_b,
               count(*)::int as users
          from ranked x
          join ranked y on y.user_id = x.user_id and x.seq < y.seq
          cross join recsys.settings s
         where s.pair_window = 0 or y.seq - x.seq <= s.pair_window
         group by 1, 2
    """,
    # user id -> distinct items touched positively (the next new item's seq - 1)
    "users": """
        select u.id, (select count(distinct e.item_id) from recsys.events e
                        join recsys.event_types t on t.id = e.type_id
                       where e.user_id = u.id and t.kind = 'positive')::int as n_items
          from recsys.users u
    """,
}

ACTUAL: dict[str, str] = {
    "interactions": """
        select user_id, item_id, seq, score, events, conversions, last_value, first_ts, last_ts
          from recsys.interactions
    """,
    "item_stats": """
        select item_id, users, events, score, log_popularity, last_ts
          from recsys.item_stats
    """,
    "item_type_stats": """
        select item_id, type_id, events, value_sum, users from recsys.item_type_stats
    """,
    "user_item_types": "select user_id, item_id, type_id from recsys.user_item_types",
    "cross_pairs": """
        select source_item, source_type, target_type, target_item, users from recsys.cross_pairs
    """,
    "rejections": "select user_id, item_id, type_id, ts from recsys.rejections",
    "item_pairs": "select item_a, item_b, users from recsys.item_pairs",
    "users": "select id, n_items from recsys.users",
}

# Number of leading columns forming each table's key.
KEYS = {
    "interactions": 2,
    "item_stats": 1,
    "item_type_stats": 2,
    "user_item_types": 3,
    "cross_pairs": 4,
    "rejections": 2,
    "item_pairs": 2,
    "users": 1,
}

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
