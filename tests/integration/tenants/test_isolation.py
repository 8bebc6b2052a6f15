"""Two tenants written and read in any interleaving, through the API and SQL:
no response under one tenant's key and no query under its role returns a row
of the other, and a key on the other tenant's ids answers 404.

Every id is prefixed with its tenant's name, so a leaked row is recognisable
wherever it appears in a response (a product id, a user id, a reason).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.db import tenants
from tests.support.tenants import SETTINGS, TENANTS, as_role, created, headers

USERS = range(3)
ITEMS = range(4)
TYPES = ("view", "add_to_cart", "purchase")
CASES = ("popular", "behavior_based", "trending", "latest")
# Anything that looks like an id of some tenant: "<tenant>-u1", "<tenant>-p3".
ID = re.compile(r"\b(acme|globex)-[up]\d+\b")


def user(tenant: str, n: int) -> str:
    return f"{tenant}-u{n}"


def item(tenant: str, n: int) -> str:
    return f"{tenant}-p{n}"


@pytest.fixture
async def shops(db_url: str, tmp_path: Path) -> Any:
    from app import create_app

    with created(db_url) as urls:
        app = create_app(
            {"database_url": db_url, "data_dir": tmp_path, "neighbor_refresh": None, **SETTINGS}
        )
        async with app.test_app() as test_app:
            yield test_app.test_client(), urls


def leaked(body: Any, tenant: str) -> set[str]:
    """Ids of another tenant anywhere in `body`."""
    return {m.group(0) for m in ID.finditer(json.dumps(body)) if m.group(1) != tenant}


operation = st.one_of(
    st.tuples(
        st.just("event"),
        st.sampled_from(TENANTS),
        st.sampled_from(USERS),
        st.sampled_from(ITEMS),
        st.sampled_from(TYPES),
    ),
    st.tuples(
        st.just("recommend"),
        st.sampled_from(TENANTS),
        st.sampled_from(USERS),
        st.sampled_from(CASES),
    ),
    st.tuples(st.just("item"), st.sampled_from(TENANTS), st.sampled_from(ITEMS)),
    st.tuples(st.just("history"), st.sampled_from(TENANTS), st.sampled_from(USERS)),
    st.tuples(st.just("sql"), st.sampled_from(TENANTS)),
)


class Tally:
    """What an example tried and what came back: asserted, and reported."""

    requests = 0
    queries = 0


async def call(client: Any, op: tuple[Any, ...]) -> Any:
    kind, tenant = op[0], op[1]
    if kind == "event":
        _, _, u, i, event_type = op
        body = {"user_id": user(tenant, u), "product_id": item(tenant, i), "event_type": event_type}
        response = await client.post("/event", json=body, headers=headers(tenant, "write"))
        assert response.status_code == 201, await response.get_data(as_text=True)
    elif kind == "recommend":
        _, _, u, case = op
        query = {"user_id": user(tenant, u), "case": case, "k": 10}
        response = await client.get(
            "/recommend", query_string=query, headers=headers(tenant, "read")
        )
        assert response.status_code == 200, await response.get_data(as_text=True)
    elif kind == "item":
        response = await client.get(
            f"/items/{item(tenant, op[2])}/similar", headers=headers(tenant)
        )
        assert response.status_code in (200, 404)
    else:
        response = await client.get(
            f"/users/{user(tenant, op[2])}/history", headers=headers(tenant)
        )
        assert response.status_code in (200, 404)
    Tally.requests += 1
    return await response.get_json()


def sql_rows(url: str, tenant_url: str) -> list[tuple[object, ...]]:
    """What the tenant's role reads of its shop in psql: items, users, counts, a list."""
    with as_role(tenant_url, tenant_url) as conn:
        rows = conn.execute(
            "select external_id from recsys.items union all"
            " select external_id from recsys.users union all"
            " select a.external_id || ' ' || b.external_id from recsys.item_pairs p"
            "   join recsys.items a on a.id = p.item_a join recsys.items b on b.id = p.item_b"
            " union all select product_id from recsys.popular(10)"
        ).fetchall()
    Tally.queries += 1
    return rows


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operation, min_size=1, max_size=12))
async def test_no_response_or_query_returns_another_tenants_row(shops: Any, ops: list[Any]):
    client, urls = shops
    for op in ops:
        if op[0] == "sql":
            rows = sql_rows(urls[op[1]], urls[op[1]])
            assert leaked([str(r[0]) for r in rows], op[1]) == set()
        else:
            assert leaked(await call(client, op), op[1]) == set()


async def test_a_key_on_another_tenants_ids_answers_404(shops: Any):
    client, _ = shops
    for tenant in TENANTS:
        body = {"user_id": user(tenant, 0), "product_id": item(tenant, 0), "event_type": "view"}
        assert (await client.post("/event", json=body, headers=headers(tenant))).status_code == 201
    mine, theirs = TENANTS
    for path in (
        f"/items/{item(theirs, 0)}",
        f"/items/{item(theirs, 0)}/similar",
        f"/items/{item(theirs, 0)}/bought-together",
        f"/users/{user(theirs, 0)}/history",
        f"/users/{user(theirs, 0)}/similar",
    ):
        response = await client.get(path, headers=headers(mine))
        assert response.status_code == 404, path
        # The owner sees it: the 404 is the tenant boundary, not a missing row.
        assert (await client.get(path, headers=headers(theirs))).status_code == 200, path
    erase = await client.delete(f"/users/{user(theirs, 0)}", headers=headers(mine))
    assert erase.status_code == 404
    history = await client.get(f"/users/{user(theirs, 0)}/history", headers=headers(theirs))
    assert len((await history.get_json())["events"]) == 1


async def test_each_tenants_writes_land_in_its_own_database_only(shops: Any, db_url: str):
    client, urls = shops
    body = {"user_id": "shared-user", "product_id": "shared-item", "event_type": "purchase"}
    assert (await client.post("/event", json=body, headers=headers("acme"))).status_code == 201
    counts = {}
    for name, url in {"default": db_url, **urls}.items():
        with psycopg.connect(url) as conn:
            counts[name] = conn.execute("select count(*) from recsys.events").fetchone()
    assert counts == {"default": (0,), "acme": (1,), "globex": (0,)}
    # Same user id in another tenant: a different user, with no history.
    other = await client.get("/users/shared-user/history", headers=headers("globex"))
    assert other.status_code == 404


async def test_the_dashboards_overview_is_the_keys_tenants(shops: Any):
    client, _ = shops
    body = {"user_id": "u1", "product_id": "p1", "event_type": "view"}
    assert (await client.post("/event", json=body, headers=headers("acme"))).status_code == 201
    for tenant, items in (("acme", 1), ("globex", 0)):
        overview = await (await client.get("/admin/overview", headers=headers(tenant))).get_json()
        assert overview["tenant"] == tenant and overview["counts"]["items"] == items


def test_a_tenants_role_reaches_its_own_database_only(shops: Any, db_url: str):
    _, urls = shops
    with as_role(urls["acme"], urls["acme"]) as conn:
        assert conn.execute("select count(*) from recsys.items").fetchone() == (0,)
    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        as_role(urls["globex"], urls["acme"]).close()
    # The default database lets anyone connect (PUBLIC), but not into recsys.
    with (
        as_role(db_url, urls["acme"]) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege, match="schema recsys"),
    ):
        conn.execute("select count(*) from recsys.items")
    assert tenants.list_tenants(db_url) == sorted(TENANTS)
