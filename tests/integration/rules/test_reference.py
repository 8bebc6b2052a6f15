"""recsys.ranked against the plain-Python reference (tests/support/rules.py):
hypothesis draws catalogues, histories and rule trees; the served list must
equal the reference's filter and ordering over the same catalogue."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

from tests.support.events import upsert_items
from tests.support.rules import Item, ranked

CATEGORIES = ["a", "b", "c", "d"]
BRANDS = ["x", "y", "z", "O'Neil"]
TAGS = ["new", "sale", "eco"]

days = st.none() | st.integers(-3, 3).filter(bool)
attributes = st.fixed_dictionaries(
    {},
    optional={
        "price": st.integers(0, 50) | st.sampled_from([0.5, 9.99, 10.0, 25.25]),
        "brand": st.sampled_from(BRANDS),
        "tags": st.lists(st.sampled_from(TAGS), unique=True, max_size=2),
        "flag": st.booleans() | st.none(),
        "size": st.sampled_from(["S", "M", "L", "XL", "10"]),
    },
)
items = st.lists(
    st.fixed_dictionaries(
        {
            "categories": st.lists(st.sampled_from(CATEGORIES), unique=True, max_size=2),
            "attributes": attributes,
            "available": st.sampled_from([True, True, True, False]),
            "from_days": days,
            "until_days": days,
            "views": st.integers(0, 6),
        }
    ),
    min_size=3,
    max_size=45,
)


def leaf() -> st.SearchStrategy[dict[str, Any]]:
    attr = st.sampled_from(["price", "brand", "tags", "flag", "size", "missing"])
    scalar = st.integers(0, 50) | st.sampled_from(BRANDS + TAGS + ["S", "XL", "10"]) | st.booleans()
    return st.one_of(
        st.builds(
            lambda key, op, value: {"field": f"attributes.{key}", "op": op, "value": value},
            attr,
            st.sampled_from(["=", "!=", "<", "<=", ">", ">=", "contains"]),
            scalar,
        ).filter(lambda n: not (n["op"] in "<<=>>=" and isinstance(n["value"], bool))),
        st.builds(
            lambda key, values: {"field": f"attributes.{key}", "op": "in", "value": values},
            attr,
            st.lists(scalar, min_size=1, max_size=3),
        ),
        st.builds(
            lambda key, flag: {"field": f"attributes.{key}", "op": "exists", "value": flag},
            attr,
            st.booleans(),
        ),
        st.builds(
            lambda c: {"field": "categories", "op": "contains", "value": c},
            st.sampled_from(CATEGORIES),
        ),
        st.builds(
            lambda cs: {"field": "categories", "op": "in", "value": cs},
            st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=2),
        ),
        st.builds(lambda b: {"field": "categories", "op": "exists", "value": b}, st.booleans()),
        st.builds(
            lambda field, op, n: {"field": field, "op": op, "value": {"days": n}},
            st.sampled_from(["available_from", "expires_at"]),
            st.sampled_from(["<", ">", "<=", ">=", "!="]),
            st.integers(-4, 4),
        ),
        st.builds(
            lambda field, b: {"field": field, "op": "exists", "value": b},
            st.sampled_from(["available_from", "expires_at"]),
            st.booleans(),
        ),
    )


conditions = st.recursive(
    leaf(),
    lambda children: st.one_of(
        st.builds(lambda cs: {"and": cs}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda cs: {"or": cs}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda c: {"not": c}, children),
    ),
    max_leaves=6,
)


@st.composite
def rule_sets(draw: st.DrawFn, n_items: int) -> dict[str, Any]:
    rules: dict[str, Any] = {}
    if draw(st.booleans()):
        rules["filter"] = draw(conditions)
    for kind, by in (
        ("boost", st.sampled_from([1.5, 2, 3, 10])),
        ("bury", st.sampled_from([0.1, 0.5])),
    ):
        rules[kind] = draw(
            st.lists(st.builds(lambda c, b: {"if": c, "by": b}, conditions, by), max_size=2)
        )
    products = st.integers(0, n_items - 1).map(lambda n: f"p{n}")
    pins = draw(st.lists(products, unique=True, max_size=2))
    positions = draw(
        st.lists(st.integers(1, 12), unique=True, min_size=len(pins), max_size=len(pins))
    )
    rules["pin"] = [{"product_id": p, "position": n} for p, n in zip(pins, positions, strict=True)]
    if draw(st.booleans()):
        promoted = draw(st.lists(products, unique=True, min_size=1, max_size=3))
        rules["promote"] = {
            "items": [p for p in promoted if p not in pins] or ["nowhere"],
            "mode": draw(st.sampled_from(["lead", "fill"])),
        }
    if draw(st.booleans()):
        rules["exclude_purchased"] = draw(st.booleans())
    return rules


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    catalogue = draw(items)
    n = len(catalogue)
    return {
        "catalogue": catalogue,
        "rules": draw(rule_sets(n)),
        "k": draw(st.integers(1, 12)),
        "cap": draw(st.none() | st.integers(1, 3)),
        "seen": draw(st.lists(st.integers(0, n - 1), unique=True, max_size=3)),
        "bought": draw(st.lists(st.integers(0, n - 1), unique=True, max_size=2)),
        "disliked": draw(st.lists(st.integers(0, n - 1), unique=True, max_size=1)),
    }


def load(conn: psycopg.Connection[Any], case: dict[str, Any]) -> dict[str, Item]:
    now = conn.execute("select now()").fetchone()[0]  # type: ignore[index]
    catalogue: dict[str, Item] = {}
    rows = []
    for n, spec in enumerate(case["catalogue"]):
        start = now + timedelta(days=spec["from_days"]) if spec["from_days"] else None
        end = now + timedelta(days=spec["until_days"]) if spec["until_days"] else None
        if start and end and end <= start:
            start, end = end - timedelta(days=1), start + timedelta(days=1)
        item = Item(
            f"p{n}", spec["categories"], spec["attributes"], spec["available"], start, end, now, now
        )
        catalogue[item.product_id] = item
        rows.append(
            {
                "product_id": item.product_id,
                "categories": item.categories,
                "attributes": item.attributes,
                "available": item.available,
                "available_from": start and start.isoformat(),
                "expires_at": end and end.isoformat(),
            }
        )
    upsert_items(conn, *rows)
    events = [
        (f"u{v}", f"p{n}", "view")
        for n, spec in enumerate(case["catalogue"])
        for v in range(spec["views"])
    ]
    events += [("me", f"p{n}", "view") for n in case["seen"]]
    events += [("me", f"p{n}", "purchase") for n in case["bought"]]
    events += [("me", f"p{n}", "dislike") for n in case["disliked"]]
    if events:
        users, products, types = (list(c) for c in zip(*events, strict=True))
        conn.execute("select recsys.ingest_events(%s, %s, %s)", (users, products, types))
    return catalogue


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=cases())
def test_ranked_equals_the_reference(conn, case):
    rules, k, cap = case["rules"], case["k"], case["cap"]
    with conn.transaction(force_rollback=True):
        catalogue = load(conn, case)
        now = conn.execute("select now()").fetchone()[0]
        policy = None if rules.get("exclude_purchased") is False else False
        base = conn.execute(
            "select product_id, reason from recsys.recommend('me', 1000, 'popular',"
            " include_seen => %s)",
            (policy,),
        ).fetchall()
        rejected = {f"p{n}" for n in case["disliked"]}
        touched = {f"p{n}" for n in case["seen"] + case["bought"]} if policy is False else set()
        placeable = {pid for pid, item in catalogue.items() if item.live(now)} - rejected - touched
        got = conn.execute(
            "select product_id from recsys.ranked('me', %s, 'popular', rules => %s,"
            " max_per_category => %s)",
            (k, Jsonb(rules), cap),
        ).fetchall()
    assert [r[0] for r in got] == ranked(base, catalogue, rules, k, now, placeable, cap)
