"""benchmarks.rls_cost's variant script on a fresh schema: two tenants with
the same external ids and event keys stay apart through the functions the
benchmark times, and the role it times them as cannot see, write or reach the
other tenant's rows. Latency is measured by the benchmark, never here."""

import psycopg
import pytest

from app.db import queries
from benchmarks import rls_cost, scaling, seed

EVENTS = [
    {"user_id": "u1", "product_id": "p1", "event_type": "view"},
    {"user_id": "u1", "product_id": "p2", "event_type": "purchase"},
    {"user_id": "u2", "product_id": "p1", "event_type": "view"},
    {"user_id": "u2", "product_id": "p3", "event_type": "add_to_cart"},
]


def ingest(url, tenant, events, keys=None):
    params = seed.ingest_params(events)
    params["event_keys"] = keys or [None] * len(events)
    with psycopg.connect(rls_cost.as_tenant(url, tenant)) as conn:
        return conn.execute(queries.get("ingest_events"), params).fetchone()


def popular(url, tenant, user):
    with psycopg.connect(rls_cost.as_tenant(url, tenant)) as conn:
        return [row[0] for row in scaling.strategy("popular", user)(conn)]


def test_the_variant_isolates_two_tenants_through_the_timed_functions(db_url):
    with psycopg.connect(db_url) as conn:
        changes = rls_cost.make_rls(conn)
        rls_cost.add_tenant(conn, "b")
        assert rls_cost.conflicting_functions(conn) == []  # every ON CONFLICT now names tenant_id
    assert "events" in changes.tables and "settings" in changes.tables
    assert "alembic_version" not in changes.tables
    rewritten = " ".join(changes.functions)
    assert "recsys.ingest_events(" in rewritten and "recsys.upsert_items(" in rewritten

    keys = ["k1", "k2", "k3", "k4"]
    assert ingest(db_url, "a", EVENTS, keys) == (4, 0)
    # The same ids and keys in tenant b are b's own rows, not duplicates of a's.
    assert ingest(db_url, "b", EVENTS[:3], keys[:3]) == (3, 0)
    assert ingest(db_url, "b", EVENTS[:1], keys[:1]) == (0, 1)  # idempotent within b
    assert ingest(db_url, "b", [{**EVENTS[0], "product_id": "p9"}]) == (1, 0)

    assert not any(rls_cost.leaks(db_url, "a").values())
    assert not any(rls_cost.leaks(db_url, "b").values())
    a, b = rls_cost.counts(db_url, "a"), rls_cost.counts(db_url, "b")
    assert (a["events"], b["events"]) == (4, 4)
    assert (a["items"], b["items"]) == (3, 3)  # p1, p2, p3 / p1, p2, p9
    assert (a["settings"], b["settings"], a["event_types"], b["event_types"]) == (1, 1, 6, 6)
    # The trigger's aggregates are per tenant too: u2 sees p2 as popular in a
    # (bought by u1), and in b only what b's events made popular.
    assert popular(db_url, "a", "u2") == ["p2"]
    assert popular(db_url, "b", "u2") == ["p2", "p9"]


def test_the_timing_role_cannot_write_or_skip_the_policy(db_url):
    with psycopg.connect(db_url) as conn:
        rls_cost.make_rls(conn)
        rls_cost.add_tenant(conn, "b")
        role = conn.execute(
            "select rolsuper, rolbypassrls, (select count(*) from pg_class c"
            " where c.relowner = r.oid) from pg_roles r where rolname = %s",
            [rls_cost.ROLE],
        ).fetchone()
    assert role == (False, False, 0)
    denied = pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security")
    with psycopg.connect(rls_cost.as_tenant(db_url, "a")) as conn, denied:
        conn.execute("insert into recsys.items (tenant_id, external_id) values ('b', 'x')")
    # Without a tenant the policy fails closed: no row at all, an error.
    unset = pytest.raises(psycopg.errors.UndefinedObject)
    with psycopg.connect(rls_cost.as_tenant(db_url, None)) as conn, unset:
        conn.execute("select count(*) from recsys.items")
