"""Rules, scenarios, windows and diversity through the HTTP API and SQL."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from psycopg.types.json import Jsonb

from app import recommenders
from tests.support.api import count, error_of, fields_of, get_json, ids, recommend
from tests.support.events import ingest, upsert_items
from tests.support.rules import mmr

SHOP = [
    {
        "product_id": f"p{n}",
        "title": f"item {n}",
        "categories": [["shoes", "hats", "bags"][n % 3]],
        "attributes": {"price": n * 10, "brand": "acme" if n % 2 else "zeta", "stock": n % 4},
    }
    for n in range(12)
]


def shop(conn: Any) -> None:
    """p11 is the most popular, then p10 ... p0; u0-u5 chose several together."""
    upsert_items(conn, *SHOP)
    ingest(
        conn,
        [(f"u{v}", f"p{n}", "view", None, None) for n in range(12) for v in range(n + 1)],
    )
    conn.commit()


def in_stock(flag: bool = True) -> dict[str, Any]:
    return {"filter": {"field": "attributes.stock", "op": ">", "value": 0} if flag else {}}


async def test_a_filter_applies_inside_the_ranking_and_keeps_the_list_k_long(client, conn):
    shop(conn)
    rules = {"filter": {"field": "attributes.stock", "op": ">", "value": 0}}
    for name in recommenders.VARIANTS:
        case, method = recommenders.VARIANTS[name]
        got = await recommend(
            client, user_id="u10", case=case, k=6, rules=json.dumps(rules), **_method(method)
        )
        assert len(got) == 6, name
        assert all(int(r["product_id"][1:]) % 4 for r in got), name


def _method(method: str | None) -> dict[str, str]:
    return {"method": method} if method else {}


async def test_post_recommend_takes_rules_as_an_object(client, conn):
    shop(conn)
    body = {
        "user_id": "new",
        "case": "popular",
        "k": 4,
        "rules": {
            "boost": [{"if": {"field": "attributes.brand", "op": "=", "value": "zeta"}, "by": 100}],
            "pin": [{"product_id": "p1", "position": 2, "reason": "campaign"}],
        },
    }
    response = await client.post("/recommend", json=body)
    got = (await response.get_json())["recommendations"]
    assert response.status_code == 200
    assert ids(got) == ["p10", "p1", "p8", "p6"]
    assert got[1]["reason"] == "campaign"


async def test_promoted_lists_lead_or_fill_and_say_so(client, conn):
    shop(conn)
    lead = {"promote": {"items": ["p0", "p2"], "reason": "staff picks"}}
    got = await recommend(client, user_id="new", case="popular", k=4, rules=json.dumps(lead))
    assert ids(got) == ["p0", "p2", "p11", "p10"]
    assert [r["reason"] for r in got[:2]] == ["staff picks"] * 2
    # fan's only item was chosen with p0 alone: behavior_based's own list is
    # [p0], then popular tops up; a filled list goes between the two.
    upsert_items(conn, {"product_id": "solo"})
    ingest(
        conn,
        [
            ("buddy", "solo", "view", None, None),
            ("buddy", "p0", "view", None, None),
            ("fan", "solo", "view", None, None),
        ],
    )
    conn.commit()
    fill = {"promote": {"items": ["p5", "p7"], "mode": "fill"}}
    own = await recommend(client, user_id="fan", case="behavior_based", k=4)
    filled = await recommend(
        client, user_id="fan", case="behavior_based", k=4, rules=json.dumps(fill)
    )
    assert [r["reason"].startswith("popular") for r in own] == [False, True, True, True]
    assert ids(filled)[:3] == ["p0", "p5", "p7"]
    assert [r["reason"] for r in filled[1:3]] == ["promoted"] * 2
    assert filled[3]["reason"].startswith("popular")


async def test_exclude_purchased_false_lets_bought_items_back(client, conn):
    shop(conn)
    ingest(conn, [("buyer", "p11", "purchase", None, None)])
    conn.commit()
    default = await recommend(client, user_id="buyer", case="popular", k=3)
    again = await recommend(
        client, user_id="buyer", case="popular", k=3, rules='{"exclude_purchased": false}'
    )
    assert "p11" not in ids(default)
    assert ids(again)[0] == "p11"


BAD_RULES = [
    ([], "rules"),
    ({"filters": {}}, "rules.filters"),
    ({"filter": {"field": "attributes.x", "op": "~", "value": 1}}, "rules.filter.op"),
    ({"filter": {"and": [{"field": "color", "op": "=", "value": 1}]}}, "rules.filter.and[0].field"),
    (
        {"filter": {"or": [{"not": {"field": "categories", "op": "=", "value": "a"}}]}},
        "rules.filter.or[0].not",
    ),
    ({"filter": {"and": []}}, "rules.filter.and"),
    ({"filter": {"field": "expires_at", "op": "<", "value": "tomorrow"}}, "rules.filter.value"),
    ({"filter": {"field": "expires_at", "op": "<", "value": "2026-13-01"}}, "rules.filter.value"),
    ({"filter": {"field": "attributes.price", "op": "in", "value": 3}}, "rules.filter.value"),
    (
        {"boost": [{"if": {"field": "available", "op": "=", "value": True}, "by": 0.5}]},
        "rules.boost[0].by",
    ),
    ({"bury": [{"by": 0.5}]}, "rules.bury[0].if"),
    ({"pin": [{"product_id": "p1", "position": 0}]}, "rules.pin[0].position"),
    (
        {"pin": [{"product_id": "p1", "position": 1}, {"product_id": "p2", "position": 1}]},
        "rules.pin",
    ),
    ({"promote": {"items": ["p1"], "mode": "first"}}, "rules.promote.mode"),
    ({"exclude_purchased": "no"}, "rules.exclude_purchased"),
    (
        {
            "filter": {
                "not": {
                    "not": {
                        "not": {
                            "not": {
                                "not": {
                                    "not": {
                                        "not": {
                                            "not": {
                                                "not": {
                                                    "field": "available",
                                                    "op": "=",
                                                    "value": True,
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
        "rules.filter.not.not.not",
    ),
]


@pytest.mark.parametrize(("rules", "path"), BAD_RULES)
async def test_a_malformed_rule_is_a_400_naming_the_bad_node(client, conn, rules, path):
    shop(conn)
    before = count(conn, "exposures")
    response = await client.get(
        "/recommend", query_string={"user_id": "u1", "rules": json.dumps(rules)}
    )
    error = await error_of(response, 400)
    field = next(iter(fields_of(error)))
    assert field.startswith(path), (field, error)
    assert path in error["message"] or field == "rules"
    assert count(conn, "exposures") == before


PAYLOADS = [
    "'; drop table recsys.items; --",
    "x' or '1'='1",
    "$1",
    "%s %(k)s",
    "\\' \" ; -- /*",
    "') or true --",
    "attributes.price",
    "ü💥\u2028",
]


def string_slots(payload: str) -> list[dict[str, Any]]:
    """Every string field of the language, holding `payload`; the first six
    hold it as a value or a key, which must match the payload's item only."""
    leaf = {"field": "attributes.brand", "op": "=", "value": payload}
    return [
        {"filter": leaf},
        {"filter": {"field": f"attributes.{payload}", "op": "exists", "value": True}},
        {"filter": {"field": "categories", "op": "contains", "value": payload}},
        {"filter": {"field": "categories", "op": "in", "value": [payload]}},
        {"filter": {"field": "product_id", "op": "in", "value": [payload]}},
        {"filter": {"field": f"attributes.{payload}", "op": "=", "value": 1}},
        {"filter": {"field": "attributes.brand", "op": "<", "value": payload}},
        {"filter": {"field": payload, "op": "=", "value": 1}},
        {"filter": {"field": "attributes.brand", "op": payload, "value": 1}},
        {"filter": {"field": "created_at", "op": ">", "value": payload}},
        {"boost": [{"if": leaf, "by": 2}]},
        {"pin": [{"product_id": payload, "position": 1, "reason": payload}]},
        {"promote": {"items": [payload], "reason": payload, "mode": payload}},
        {payload: True},
    ]


@pytest.mark.parametrize("payload", PAYLOADS)
async def test_injection_payloads_are_a_400_or_match_literally(client, conn, payload):
    shop(conn)
    # The one item whose brand and category are the payload itself.
    upsert_items(
        conn,
        {
            "product_id": payload,
            "categories": [payload],
            "attributes": {"brand": payload, payload: 1},
        },
    )
    conn.commit()
    items_before = count(conn, "items")
    for n, rules in enumerate(string_slots(payload)):
        response = await client.post(
            "/recommend", json={"user_id": "nobody", "case": "popular", "k": 20, "rules": rules}
        )
        body = await response.get_json()
        assert response.status_code in (200, 400), (rules, body)
        if response.status_code == 400:
            continue
        got = ids(body["recommendations"])
        if n < 6:
            assert got == [payload], rules
    assert count(conn, "items") == items_before
    assert conn.execute("select count(*) from recsys.events").fetchone()[0] > 0


def test_availability_windows_hold_at_their_boundaries(conn):
    with conn.transaction(force_rollback=True):
        now = conn.execute("select now()").fetchone()[0]
        upsert_items(
            conn,
            {"product_id": "opens-now", "available_from": now.isoformat()},
            {
                "product_id": "opens-later",
                "available_from": (now + timedelta(microseconds=1)).isoformat(),
            },
            {"product_id": "ends-now", "expires_at": now.isoformat()},
            {
                "product_id": "ends-later",
                "expires_at": (now + timedelta(microseconds=1)).isoformat(),
            },
            {"product_id": "always"},
        )
        ingest(
            conn,
            [
                (f"u{n}", p, "view", None, None)
                for n, p in enumerate(
                    ["opens-now", "opens-later", "ends-now", "ends-later", "always"]
                )
            ],
        )
        for name, (case, method) in recommenders.VARIANTS.items():
            got = conn.execute(
                "select product_id from recsys.recommend('u0', 10, %s,"
                " method => coalesce(%s, 'adaptive'), include_seen => true)",
                (case, method),
            ).fetchall()
            assert {r[0] for r in got} <= {"opens-now", "ends-later", "always"}, name
        popular = {r[0] for r in conn.execute("select product_id from recsys.popular(10)")}
        assert popular == {"opens-now", "ends-later", "always"}
        similar = conn.execute("select product_id from recsys.similar_items('always', 10)")
        assert {r[0] for r in similar} <= {"opens-now", "ends-later"}


async def test_items_carry_their_window_and_say_whether_they_are_live(client, conn):
    response = await client.put("/items/future", json={"available_from": "2099-01-01T00:00:00Z"})
    body = await response.get_json()
    assert response.status_code == 201, body
    assert body["live"] is False and body["available_from"].startswith("2099-01-01")
    bad = await client.put(
        "/items/odd",
        json={"available_from": "2030-01-02T00:00:00Z", "expires_at": "2030-01-01T00:00:00Z"},
    )
    await error_of(bad, 400)
    assert count(conn, "items") == 1


def test_max_per_category_caps_and_yields_only_when_nothing_else_is_left(conn):
    shop(conn)
    got = conn.execute(
        "select product_id from recsys.ranked('new', 6, 'popular', max_per_category => 1)"
    ).fetchall()
    categories = [SHOP[int(r[0][1:])]["categories"][0] for r in got]
    assert len(got) == 6
    assert len(set(categories[:3])) == 3, "one of each category first"
    assert [r[0] for r in got][:3] == ["p11", "p10", "p9"]


def test_diversity_is_mmr_over_the_embeddings(conn):
    shop(conn)
    # Two clusters: even items point one way, odd ones another.
    vectors = {
        f"p{n}": [1.0, 0.1 * n, 0.0] if n % 2 == 0 else [0.0, 0.1 * n, 1.0] for n in range(12)
    }
    for pid, vector in vectors.items():
        conn.execute(
            "update recsys.items set embedding = %s::vector where external_id = %s",
            (str(vector), pid),
        )
    conn.commit()
    order = [
        r[0] for r in conn.execute("select product_id from recsys.recommend('new', 40, 'popular')")
    ]
    for d in (0.25, 0.5, 0.75, 1.0):
        got = [
            r[0]
            for r in conn.execute(
                "select product_id from recsys.ranked('new', 5, 'popular', diversity => %s)", (d,)
            )
        ]
        assert got == mmr(order[:20], vectors, 5, d), d
    plain = [
        r[0] for r in conn.execute("select product_id from recsys.ranked('new', 4, 'popular')")
    ]
    assert plain == order[:4]


async def test_a_scenario_saves_settings_and_requests_override_them(client, conn):
    shop(conn)
    spec = {
        "case": "popular",
        "rules": {"filter": {"field": "categories", "op": "contains", "value": "shoes"}},
        "k": 3,
        "description": "shoe page",
    }
    response = await client.put("/admin/scenarios/shoe-page", json=spec)
    assert response.status_code == 201, await response.get_json()
    assert (await client.put("/admin/scenarios/shoe-page", json=spec)).status_code == 200
    listed = await get_json(client, "/scenarios")
    assert [s["name"] for s in listed["scenarios"]] == ["shoe-page"]
    body = await get_json(client, "/recommend", user_id="new", scenario="shoe-page")
    assert body["scenario"] == "shoe-page" and body["case"] == "popular"
    assert ids(body["recommendations"]) == ["p9", "p6", "p3"]
    longer = await recommend(client, user_id="new", scenario="shoe-page", k=4)
    assert ids(longer) == ["p9", "p6", "p3", "p0"]
    # The request's rules replace the scenario's key by key.
    hats = json.dumps({"filter": {"field": "categories", "op": "contains", "value": "hats"}})
    assert ids(await recommend(client, user_id="new", scenario="shoe-page", rules=hats)) == [
        "p10",
        "p7",
        "p4",
    ]
    # The next page repeats the scenario's request.
    more = await get_json(client, "/recommend/next", recomm_id=body["recomm_id"])
    assert ids(more["recommendations"]) == ["p0"] and more["scenario"] == "shoe-page"
    row = conn.execute(
        "select scenario from recsys.exposures where recomm_id = %s", (body["recomm_id"],)
    ).fetchone()
    assert row == ("shoe-page",)
    sql = conn.execute(
        "select product_id from recsys.recommend_scenario('shoe-page', 'new', 2)"
    ).fetchall()
    assert [r[0] for r in sql] == ["p9", "p6"]
    assert (await client.delete("/admin/scenarios/shoe-page")).status_code == 204
    gone = await client.get("/recommend", query_string={"user_id": "new", "scenario": "shoe-page"})
    assert fields_of(await error_of(gone, 404)) == {"scenario": "unknown"}


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"case": "popular", "rules": {"pin": [{"position": 1}]}}, "rules.pin[0].product_id"),
        ({"case": "popular", "method": "switching"}, "method"),
        ({"case": "telepathy"}, "case"),
        ({"case": "popular", "fallback": ["nope"]}, "fallback"),
        ({"case": "popular", "diversity": 2}, "diversity"),
    ],
)
async def test_a_bad_scenario_is_a_400_and_writes_nothing(client, conn, spec, field):
    response = await client.put("/admin/scenarios/bad", json=spec)
    error = await error_of(response, 400)
    assert any(f.startswith(field) for f in fields_of(error)), error
    assert count(conn, "scenarios") == 0


async def test_an_experiment_arm_can_serve_a_scenario(client, conn):
    shop(conn)
    await client.put(
        "/admin/scenarios/bags",
        json={
            "case": "popular",
            "rules": {"filter": {"field": "categories", "op": "contains", "value": "bags"}},
        },
    )
    experiment = {
        "name": "bags-or-not",
        "mode": "ab",
        "start": True,
        "arms": [
            {"name": "control", "case": "popular", "share": 1e-6},
            {"name": "bags", "case": "popular", "params": {"scenario": "bags"}},
        ],
    }
    response = await client.post("/admin/experiments", json=experiment)
    assert response.status_code == 201, await response.get_json()
    body = await get_json(client, "/recommend", user_id="new", experiment="bags-or-not", k=3)
    assert body["arm"] == "bags"
    assert ids(body["recommendations"]) == ["p11", "p8", "p5"]
    await client.delete("/admin/scenarios/bags")
    orphan = await client.get(
        "/recommend", query_string={"user_id": "new", "experiment": "bags-or-not"}
    )
    assert "scenario" in fields_of(await error_of(orphan, 409))
    bad = {
        **experiment,
        "name": "ghost",
        "arms": [
            experiment["arms"][0],
            {"name": "x", "case": "popular", "params": {"scenario": "ghost"}},
        ],
    }
    error = await error_of(await client.post("/admin/experiments", json=bad), 400)
    assert "arms.1.params.scenario" in fields_of(error)


def test_the_ledger_records_the_rules_a_list_was_served_with(conn):
    shop(conn)
    rules = {"filter": {"field": "attributes.brand", "op": "=", "value": "acme"}}
    served = conn.execute(
        "select recomm_id, product_id from recsys.serve('new', 2, 'popular', rules => %s,"
        " request => %s)",
        (Jsonb(rules), Jsonb({"rules": rules})),
    ).fetchall()
    assert [r[1] for r in served] == ["p11", "p9"]
    logged = conn.execute("select request -> 'rules' from recsys.exposures").fetchone()
    assert logged == (rules,)
