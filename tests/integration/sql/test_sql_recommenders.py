"""The SQL recommenders and analytics views on small hand-built data sets."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg import errors

from app import recommenders
from tests.support.events import Event, at, ingest, upsert_items

Rec = tuple[str, float, str]


def call(conn: psycopg.Connection[Any], query: str, *args: Any) -> list[Rec]:
    return conn.execute("select * from " + query, args).fetchall()  # type: ignore[return-value]


def ids(recs: list[Rec]) -> list[str]:
    return [r[0] for r in recs]


def views(user: str, *products: str, hours: float = 0) -> list[Event]:
    return [(user, p, "view", None, at(hours)) for p in products]


# ------------------------------------------------------------------------ popular


def test_popular_purchase_outranks_view_at_the_same_time(conn):
    ingest(conn, [("u1", "viewed", "view", None, at(0)), ("u2", "bought", "purchase", None, at(0))])
    recs = call(conn, "recsys.popular(2)")
    assert ids(recs) == ["bought", "viewed"]
    assert [r[1] for r in recs] == pytest.approx([1.0, 1 / 5])
    assert {r[2] for r in recs} == {"popular"}


@pytest.mark.parametrize(("days", "first"), [(13, "old"), (15, "new")])
def test_popular_decays_with_half_life(conn, days, first):
    # Half-life 14 days: one view `days` later against two views at t0.
    ingest(conn, views("u1", "old") + views("u2", "old") + views("u3", "new", hours=24 * days))
    recs = call(conn, "recsys.popular(2)")
    assert ids(recs)[0] == first
    ratio = 2 / 2 ** (days / 14)
    assert recs[1][1] == pytest.approx(min(ratio, 1 / ratio))


def test_popular_weighs_ratings_by_value(conn):
    ingest(
        conn,
        [
            ("u1", "loved", "rating", 4.5, at(0)),
            ("u2", "carted", "add_to_cart", None, at(0)),
            ("u3", "viewed", "view", None, at(0)),
        ],
    )
    recs = call(conn, "recsys.popular(3)")
    assert ids(recs) == ["loved", "carted", "viewed"]
    assert [r[1] for r in recs] == pytest.approx([1.0, 3 / 4.5, 1 / 4.5])


def test_popular_honours_k(conn):
    ingest(conn, views("u1", *"abcdef"))
    assert len(call(conn, "recsys.popular(3)")) == 3
    assert len(call(conn, "recsys.popular(1)")) == 1


def test_popular_filters_by_category(conn):
    upsert_items(
        conn,
        {"product_id": "shirt", "categories": ["clothes", "summer"]},
        {"product_id": "coat", "categories": ["clothes"]},
        {"product_id": "tent", "categories": ["outdoor", "summer"]},
        {"product_id": "hat", "categories": ["clothes"]},  # no events: fills the tail
    )
    ingest(conn, views("u1", "shirt", "coat", "tent"))
    assert set(ids(call(conn, "recsys.popular(10, category => 'clothes')"))) == {
        "shirt",
        "coat",
        "hat",
    }
    assert set(ids(call(conn, "recsys.popular(10, category => 'summer')"))) == {"shirt", "tent"}
    assert call(conn, "recsys.popular(10, category => 'toys')") == []


def test_popular_honours_exclude(conn):
    ingest(conn, views("u1", *"abc") + views("u2", "a"))
    assert ids(call(conn, "recsys.popular(10, exclude => %s)", ["a", "c"])) == ["b"]


def test_popular_never_returns_unavailable_items(conn):
    ingest(conn, views("u1", "gone", "here", "fresh") + views("u2", "gone"))
    upsert_items(conn, {"product_id": "gone", "available": False})
    upsert_items(conn, {"product_id": "never-seen", "available": False})
    assert set(ids(call(conn, "recsys.popular(10)"))) == {"here", "fresh"}


def test_popular_fills_k_with_items_without_events(conn):
    upsert_items(conn, *({"product_id": f"n{i}"} for i in range(4)))
    ingest(conn, views("u1", "hit"))
    recs = call(conn, "recsys.popular(5)")
    assert ids(recs)[0] == "hit"
    assert sorted(ids(recs)[1:]) == ["n0", "n1", "n2", "n3"]
    assert {r[2] for r in recs[1:]} == {"new in the catalogue"}


def test_popular_for_user_excludes_seen_and_never_purchased(conn):
    ingest(
        conn,
        [
            ("u", "bought", "purchase", None, at(0)),
            ("u", "seen", "view", None, at(0)),
            *views("other", "bought", "seen", "fresh"),
        ],
    )
    assert ids(call(conn, "recsys.popular(10, for_user => 'u')")) == ["fresh"]
    with_seen = ids(call(conn, "recsys.popular(10, for_user => 'u', include_seen => true)"))
    assert sorted(with_seen) == ["fresh", "seen"]


def test_popular_since_counts_only_the_window(conn):
    now = datetime.now(UTC)
    ingest(
        conn,
        [
            ("u1", "old", "purchase", None, now - timedelta(days=30)),
            ("u2", "recent", "view", None, now - timedelta(days=1)),
        ],
    )
    recs = call(conn, "recsys.popular(2, '7 days')")
    assert recs[0] == ("recent", 1.0, "popular in the last 7 days")
    assert ids(recs) == ["recent", "old"]


def test_popular_since_ranks_a_valueless_rating_below_a_view(conn):
    # The schema accepts a rating without value; the trigger weighs it 0.
    now = datetime.now(UTC)
    ingest(conn, [("u1", "viewed", "view", None, now)])
    ids_ = conn.execute(
        "insert into recsys.items (external_id) values ('rated') returning id"
    ).fetchone()
    conn.execute(
        "insert into recsys.events (user_id, item_id, type_id, ts)"
        " select u.id, %s, 4, now() from recsys.users u where external_id = 'u1'",
        ids_,
    )
    recs = call(conn, "recsys.popular(2, '7 days')")
    assert ids(recs) == ["viewed", "rated"]
    assert all(r[1] is not None for r in recs)


# ----------------------------------------------------------------- behavior_based

# u1, u2: a b; u3: a c; u4: d e. Alice saw a.
CO_VIEWS = views("u1", "a", "b") + views("u2", "a", "b") + views("u3", "a", "c")
CO_VIEWS += views("u4", "d", "e")


def test_behavior_based_recommends_co_occurring_items(conn):
    upsert_items(conn, {"product_id": "a", "title": "Item A"})
    ingest(conn, [*CO_VIEWS, *views("alice", "a", hours=1)])
    recs = call(conn, "recsys.behavior_based('alice', 2)")
    assert ids(recs) == ["b", "c"]
    assert [r[2] for r in recs] == ["often together with Item A"] * 2
    # cosine with a: b 2 / sqrt(4 * 2), c 1 / sqrt(4 * 1), times ln(1 + 1) for a's one view
    assert [r[1] for r in recs] == pytest.approx([math.log(2) / math.sqrt(2), math.log(2) / 2])


def test_behavior_based_tops_up_with_popular_for_thin_history(conn):
    ingest(conn, [*CO_VIEWS, *views("alice", "a", hours=1)])
    recs = call(conn, "recsys.behavior_based('alice', 4)")
    assert len(recs) == 4
    assert ids(recs)[:2] == ["b", "c"]
    assert sorted(ids(recs)[2:]) == ["d", "e"]
    assert all(r[2].endswith("(not enough history)") for r in recs[2:])


def test_behavior_based_honours_k(conn):
    ingest(conn, [*CO_VIEWS, *views("alice", "a", hours=1)])
    assert ids(call(conn, "recsys.behavior_based('alice', 1)")) == ["b"]
    assert len(call(conn, "recsys.behavior_based('alice', 3)")) == 3


def test_behavior_based_falls_back_to_popular_for_new_user(conn):
    ingest(conn, CO_VIEWS)
    recs = call(conn, "recsys.behavior_based('stranger', 3)")
    assert ids(recs) == ids(call(conn, "recsys.popular(3)"))
    assert [r[2] for r in recs] == ["popular (new user)"] * 3


def test_behavior_based_never_fewer_than_k_while_catalogue_has_them(conn):
    upsert_items(conn, *({"product_id": f"n{i}"} for i in range(3)))
    ingest(conn, [*CO_VIEWS, *views("alice", "a", "d", hours=1)])
    # 8 items, alice saw 2, 1 excluded: 5 left.
    recs = call(conn, "recsys.behavior_based('alice', 5, exclude => '{e}')")
    assert sorted(ids(recs)) == ["b", "c", "n0", "n1", "n2"]
    assert len(call(conn, "recsys.behavior_based('alice', 9, exclude => '{e}')")) == 5


def test_behavior_based_excludes_seen_unless_include_seen_but_never_purchased(conn):
    ingest(
        conn,
        [*CO_VIEWS, *views("alice", "a", hours=1), ("alice", "b", "purchase", None, at(2))],
    )
    assert not {"a", "b"} & set(ids(call(conn, "recsys.behavior_based('alice', 5)")))
    seen = ids(call(conn, "recsys.behavior_based('alice', 5, include_seen => true)"))
    assert "a" in seen
    assert "b" not in seen


def test_behavior_based_honours_category_and_availability(conn):
    upsert_items(
        conn,
        {"product_id": "b", "categories": ["x"], "available": False},
        {"product_id": "c", "categories": ["x"]},
        {"product_id": "d", "categories": ["x"]},
        {"product_id": "e", "categories": ["y"]},
    )
    ingest(conn, [*CO_VIEWS, *views("alice", "a", hours=1)])
    recs = call(conn, "recsys.behavior_based('alice', 5, category => 'x')")
    assert ids(recs) == ["c", "d"]
    assert "b" not in ids(call(conn, "recsys.behavior_based('alice', 10)"))


def test_behavior_based_weighs_a_purchase_over_a_more_recent_view(conn):
    ingest(
        conn,
        [
            ("alice", "s1", "purchase", None, at(0)),
            ("alice", "s2", "view", None, at(1)),
            *views("x", "s1", "n1"),
            *views("y", "s2", "n2"),
        ],
    )
    assert ids(call(conn, "recsys.behavior_based('alice', 2)")) == ["n1", "n2"]


def test_behavior_based_prefers_neighbours_of_recent_items(conn):
    ingest(
        conn,
        views("alice", "s1", hours=0)
        + views("alice", "s2", hours=1)
        + views("x", "s1", "n1")
        + views("y", "s2", "n2"),
    )
    assert ids(call(conn, "recsys.behavior_based('alice', 2)")) == ["n2", "n1"]


# ------------------------------------------------------------------ similar_items

# Users u1..u7 (all active). x: u1-u4. b1: u1. b2: u2 u3 u5. b3: u3 u4 u5 u6 u7.
# Co-occurrence with x: b1 1, b2 2, b3 2; users: x 4, b1 1, b2 3, b3 5.
MEMBERS = {
    "x": [1, 2, 3, 4],
    "b1": [1],
    "b2": [2, 3, 5],
    "b3": [3, 4, 5, 6, 7],
}


def g_test(n_ab: int, n_a: int, n_b: int, n: int) -> float:
    """Dunning's log-likelihood ratio as a G-test: 2 * sum O ln(O / E)."""
    observed = [[n_ab, n_a - n_ab], [n_b - n_ab, n - n_a - n_b + n_ab]]
    rows = [sum(r) for r in observed]
    cols = [observed[0][j] + observed[1][j] for j in range(2)]
    return 2 * sum(
        o * math.log(o * n / (rows[i] * cols[j]))
        for i, r in enumerate(observed)
        for j, o in enumerate(r)
        if o > 0
    )


EXPECTED = {
    "cosine": {"b1": 1 / math.sqrt(4), "b2": 2 / math.sqrt(12), "b3": 2 / math.sqrt(20)},
    "jaccard": {"b1": 1 / 4, "b2": 2 / 5, "b3": 2 / 7},
    "llr": {"b1": g_test(1, 4, 1, 7), "b2": g_test(2, 4, 3, 7), "b3": g_test(2, 4, 5, 7)},
}


@pytest.fixture
def members(conn):
    ingest(conn, [(f"u{u}", p, "view", None, at(0)) for p, us in MEMBERS.items() for u in us])


def test_similar_items_unknown_product_raises_no_data_found(conn):
    with pytest.raises(errors.NoDataFound):
        call(conn, "recsys.similar_items('nope', 5)")


def test_similar_items_ranks_by_cosine_not_raw_count(conn, members):
    recs = call(conn, "recsys.similar_items('x', 3)")
    assert ids(recs) == ["b2", "b1", "b3"]  # b1 (1 shared user) above b3 (2 shared)
    assert recs[1][2] == "chosen together by 1 user"
    assert recs[2][2] == "chosen together by 2 users"


@pytest.mark.parametrize("measure", ["cosine", "jaccard", "llr"])
def test_similar_items_measures(conn, members, measure):
    recs = call(conn, "recsys.similar_items('x', 3, %s)", measure)
    expected = sorted(EXPECTED[measure].items(), key=lambda kv: -kv[1])
    assert ids(recs) == [k for k, _ in expected]
    assert [r[1] for r in recs] == pytest.approx([v for _, v in expected])


def test_similarity_measures_order_differently(conn, members):
    orders = {tuple(ids(call(conn, "recsys.similar_items('x', 3, %s)", m))) for m in EXPECTED}
    assert len(orders) == 3


def test_similar_items_follows_settings_similarity(conn, members):
    conn.execute("update recsys.settings set similarity = 'llr'")
    assert ids(call(conn, "recsys.similar_items('x', 3)")) == ["b3", "b1", "b2"]


def test_similar_items_honours_k_exclude_category_and_availability(conn, members):
    upsert_items(
        conn,
        {"product_id": "b1", "categories": ["c"]},
        {"product_id": "b2", "categories": ["c"], "available": False},
        {"product_id": "b3", "categories": ["c"]},
    )
    assert ids(call(conn, "recsys.similar_items('x', 1)")) == ["b1"]
    assert ids(call(conn, "recsys.similar_items('x', 5, exclude => '{b1}')")) == ["b3"]
    assert ids(call(conn, "recsys.similar_items('x', 5, category => 'c')")) == ["b1", "b3"]


@pytest.mark.parametrize(
    "query",
    [
        "recsys.similar_items('x', 3, 'euclid')",
        "recsys.behavior_based('u1', 3, measure => 'euclid')",
    ],
)
def test_unknown_similarity_measure_is_rejected(conn, members, query):
    # Today: similar_items returns rows with null scores, behavior_based silently
    # degrades to popular; a typo should be an error like an unknown strategy.
    with pytest.raises(errors.InvalidParameterValue):
        call(conn, query)


# ------------------------------------------------------------------------- top-up


def test_popular_top_up_continues_after_the_shown_items(conn):
    upsert_items(conn, {"product_id": "n0", "categories": ["x"]})
    ingest(conn, [*CO_VIEWS, *views("alice", "a", hours=1)])
    top_up = "recsys.popular_top_up(%s, %s, %s, %s, %s, false)"
    recs = call(conn, top_up, "alice", 4, ["b"], ["c"], None)
    assert recs == [
        (p, s, r + " (not enough history)")
        for p, s, r in call(conn, "recsys.popular(3, exclude => '{c,b}', for_user => 'alice')")
    ]
    assert [r[2] for r in call(conn, top_up, "stranger", 2, [], [], "x")] == [
        "new in the catalogue (new user)"
    ]
    why = call(conn, "recsys.popular_top_up('alice', 2, '{}', '{}', null, false, ' (why)')")
    assert [r[2] for r in why] == ["popular (why)"] * 2
    # A full list needs nothing; popular() is never asked for 0 items (an error).
    assert call(conn, top_up, "alice", 2, ["b", "c"], [], None) == []


# Every strategy ends with recsys.popular_top_up: for a new user, the whole
# list is popular's, each reason with the strategy's own label.
TOPPED_UP = [
    ("recsys.behavior_based('stranger', 6)", lambda s, r: (s, r + " (new user)")),
    ("recsys.collaborative('stranger', 6)", lambda s, r: (s, r + " (new user)")),
    ("recsys.content_based('stranger', 6)", lambda s, r: (s, r + " (new user)")),
    (
        "recsys.switching('stranger', 6)",
        lambda s, r: (s, ("" if r.startswith("popular") else "popular: ") + r + " (new user)"),
    ),
]


@pytest.mark.parametrize(("query", "label"), TOPPED_UP)
def test_every_strategy_tops_up_with_popular_and_its_own_label(conn, query, label):
    upsert_items(conn, {"product_id": "n0"})
    ingest(conn, CO_VIEWS)
    popular = call(conn, "recsys.popular(6, for_user => 'stranger')")
    assert popular[-1][2] == "new in the catalogue"
    assert call(conn, query) == [(p, *label(s, r)) for p, s, r in popular]


def test_adaptive_tops_up_below_its_blend_with_score_zero(conn):
    upsert_items(conn, {"product_id": "n0"})
    ingest(conn, CO_VIEWS)
    recs = call(conn, "recsys.adaptive('stranger', 6)")
    # The new user's blend is popular alone; n0, without events, only tops up.
    assert ids(recs) == ids(call(conn, "recsys.popular(6)"))
    assert [r[2] for r in recs] == ["popular"] * 5 + ["new in the catalogue (new user)"]
    assert recs[-1][1] == 0 < recs[-2][1]


# ---------------------------------------------------------------------- recommend


def test_recommend_dispatches_popular_and_behavior_based(conn):
    ingest(conn, [*CO_VIEWS, *views("alice", "a", hours=1)])
    assert call(conn, "recsys.recommend('alice', 3, 'popular')") == call(
        conn, "recsys.popular(3, for_user => 'alice')"
    )
    assert call(conn, "recsys.recommend('alice', 3, 'behavior_based')") == call(
        conn, "recsys.behavior_based('alice', 3)"
    )


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("recsys.recommend('u', 5, 'hybrid', method => 'best')", errors.InvalidParameterValue),
        ("recsys.recommend('u', 0)", errors.InvalidParameterValue),
        ("recsys.recommend('u', 0, 'hybrid', method => 'switching')", errors.InvalidParameterValue),
        ("recsys.recommend('u', 0, 'content_based')", errors.InvalidParameterValue),
        ("recsys.content_based(null, 5, product => 'nope')", errors.NoDataFound),
        ("recsys.recommend('u', 5, 'magic')", errors.InvalidParameterValue),
        ("recsys.recommend('u', 0, 'popular')", errors.InvalidParameterValue),
        ("recsys.recommend('u', 0, 'behavior_based')", errors.InvalidParameterValue),
        ("recsys.popular(0)", errors.InvalidParameterValue),
        ("recsys.popular(1001)", errors.InvalidParameterValue),
        ("recsys.similar_items('x', 0)", errors.InvalidParameterValue),
    ],
)
def test_invalid_requests_raise(conn, query, error):
    upsert_items(conn, {"product_id": "x"})
    with pytest.raises(error):
        call(conn, query)


def test_python_and_sql_know_the_same_strategies(conn):
    [source] = conn.execute("select pg_get_functiondef('recsys.recommend'::regproc)").fetchone()
    assert set(re.findall(r"when '(\w+)' then", source)) == set(recommenders.NAMES)
    upsert_items(conn, {"product_id": "x"}, {"product_id": "y"})
    for name in recommenders.NAMES:
        assert ids(call(conn, "recsys.recommend(null, 1, %s, product => 'x')", name)) == ["y"]
    with pytest.raises(errors.InvalidParameterValue) as info:
        call(conn, "recsys.recommend(null, 3, 'magic')")
    hint = info.value.diag.message_hint or ""
    assert set(hint.removeprefix("strategies: ").split(", ")) == set(recommenders.NAMES)
    conn.rollback()
    [known] = conn.execute("select recsys.strategies()").fetchone()
    assert set(known) == set(recommenders.NAMES)


def test_recommend_dispatches_collaborative(conn):
    ingest(conn, views("u1", "a", "b") + views("u2", "a"))
    # No trained model: popular items, the reason saying why.
    recs = call(conn, "recsys.recommend('u2', 5, 'collaborative')")
    assert ids(recs) == ["b"]
    assert recs[0][2] == "popular (not enough history)"
    assert call(conn, "recsys.recommend('u2', 5, 'collaborative')") == call(
        conn, "recsys.collaborative('u2', 5)"
    )


def test_recommend_error_sqlstates(conn):
    for query, state in [
        ("'hybrid', method => 'magic'", "22023"),
        ("'content_based', product => 'nope'", "P0002"),
        ("'magic'", "22023"),
    ]:
        with pytest.raises(psycopg.Error) as info:
            call(conn, f"recsys.recommend(null, 5, {query})")
        assert info.value.sqlstate == state
        conn.rollback()


# -------------------------------------------------------------------------- views


def test_item_funnel_rates(conn):
    upsert_items(conn, {"product_id": "idle", "title": "Idle"})
    ingest(
        conn,
        views("u1", "a")
        + views("u2", "a")
        + views("u3", "a")
        + views("u4", "a")
        + [("u1", "a", "add_to_cart", None, at(1)), ("u2", "a", "add_to_cart", None, at(1))]
        + [("u1", "a", "purchase", None, at(2)), ("u5", "a", "dislike", None, at(2))],
    )
    rows = conn.execute("select * from recsys.item_funnel order by product_id").fetchall()
    # The dislike counts as a negative, not as a user of the item.
    assert rows == [
        ("a", None, 4, 4, 2, 1, 1, Decimal("0.5000"), Decimal("0.5000")),
        ("idle", "Idle", 0, 0, 0, 0, 0, None, None),
    ]


def test_daily_activity_counts(conn):
    conn.execute("set timezone = 'UTC'")
    day = datetime(2026, 3, 1, 9, tzinfo=UTC)
    ingest(
        conn,
        [
            ("u1", "a", "view", None, day),
            ("u1", "a", "add_to_cart", None, day + timedelta(hours=1)),
            ("u2", "b", "purchase", None, day + timedelta(hours=14)),
            ("u2", "a", "rating", 4.0, day + timedelta(days=1)),
            ("u2", "a", "view", None, day + timedelta(days=1, hours=2)),
            ("u3", "b", "hide", None, day + timedelta(days=1, hours=3)),
        ],
    )
    rows = conn.execute("select * from recsys.daily_activity order by day").fetchall()
    assert rows == [
        (day.date(), 3, 2, 2, 1, 1, 1, 0, 0),
        ((day + timedelta(days=1)).date(), 3, 2, 2, 1, 0, 0, 1, 1),
    ]
