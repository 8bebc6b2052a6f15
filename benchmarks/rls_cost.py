"""What PostgreSQL row-level security would cost the hot SQL paths: the
counterfactual to tenants as a database per shop (app/db/tenants.py).

Two databases on one embedded server, each with `recsys bench`'s synthetic shop
(benchmarks.workload, loaded by benchmarks.seed):

* plain: the schema as the migrations build it, one shop;
* rls: the same schema turned multi-tenant by `make_rls` below, then the same
  shop loaded as tenant 'a' and a second shop of the same size (another seed,
  the same external ids) as tenant 'b', so every policy has rows to filter.

`make_rls` gives every table of schema recsys (but alembic_version) a column
`tenant_id text not null default current_setting('recsys.tenant')`, widens each
unique key on a name (users' and items' external_id, events' event_key,
event_types' and experiments' name, scenarios' primary key, the active model
run per role, the settings and neighbor_lists_state singletons) to
(tenant_id, ...), leads the popularity index and the exposures-by-user index
with tenant_id, enables and forces RLS with one policy per table, `using
(tenant_id = current_setting('recsys.tenant')) with check (same)`, makes every
view security_invoker (a view otherwise reads as its owner, who bypasses RLS),
and rewrites the functions whose ON CONFLICT targets named a widened key.
Keys on surrogate ids (bigint identities, one sequence for all tenants) stay
as they are: an id is unique across tenants already. `add_tenant` gives a new
tenant its settings row, neighbor_lists_state row and event types.

Both databases are loaded as `bench_rls` in chunks of LOAD_CHUNK events, the
owner analyzing after each (see `load`), then read and written as `bench_rls`,
a role that owns nothing (the owner is a superuser, which bypasses RLS), with
`recsys.tenant` = 'a'. Before timing, the script asserts that tenant 'a' sees none of 'b''s
rows, that 'b' sees its own, and that the RLS database's lists for 'a' are the
plain database's. Then, interleaved per sample (the order of the two databases
alternating), from one connection per database:

* behavior_based and popular: the `recommend` named query (recsys.recommend), k = 10;
* similar_items: the `similar_items` named query, k = 10;
* write 1: one view by an active user through recsys.ingest_events (what
  POST /event runs), rolled back;
* batch 1000: 1 000 views of random active users through recsys.ingest_events
  (POST /events), rolled back.

Reported: p50/p99 ms of each on both databases and the ratios rls/plain.

    python -m benchmarks.rls_cost [--events 200000] [--items 10000] [--samples 200]
        [--batches 20] [--json PATH]
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import conninfo, sql
from psycopg.types.json import Jsonb

from app.db import queries
from benchmarks import harness, scaling, seed, workload

PLAIN_DB = "bench_rls_plain"
RLS_DB = "bench_rls_rls"
ROLE = "bench_rls"
SETTING = "recsys.tenant"
BATCH = 1_000
LOAD_CHUNK = 10_000
SAMPLES = 200
BATCHES = 20  # timed batches: each takes seconds


def warmup(timed: int) -> int:
    """Calls before the timed ones: caches, plans (a tenth, at least one)."""
    return max(1, timed // 10)


Conn = psycopg.Connection[tuple[Any, ...]]

# Migration bookkeeping, not a tenant's data.
SKIPPED = ("alembic_version",)
# Unique keys on names, widened to (tenant_id, ...): (table, constraint, columns).
WIDENED = (
    ("users", "users_external_id_key", "external_id"),
    ("items", "items_external_id_key", "external_id"),
    ("events", "events_event_key_key", "event_key"),
    ("event_types", "event_types_name_key", "name"),
    ("experiments", "experiments_name_key", "name"),
)
# Primary keys on a name or a singleton flag: (table, primary key columns after).
REKEYED = (
    ("settings", "tenant_id"),
    ("neighbor_lists_state", "tenant_id"),
    ("scenarios", "tenant_id, name"),
)
# Indexes the policy's filter should lead: (index, definition after).
INDEXES = (
    (
        "model_runs_active_idx",
        "create unique index model_runs_active_idx on recsys.model_runs (tenant_id, role)"
        " where active",
    ),
    (
        "item_stats_popularity_idx",
        "create index item_stats_popularity_idx on recsys.item_stats"
        " (tenant_id, log_popularity desc nulls last)",
    ),
    (
        "exposures_user_idx",
        "create index exposures_user_idx on recsys.exposures"
        " (tenant_id, user_external_id, served_at desc)",
    ),
)
# ON CONFLICT targets that named a widened key.
CONFLICT = re.compile(r"on\s+conflict\s*\(\s*(external_id|event_key|name)\s*\)", re.IGNORECASE)
# Singleton rows every tenant needs, copied from the first tenant's defaults.
PER_TENANT = ("settings", "neighbor_lists_state")


# ------------------------------------------------------------------ the variant


@dataclass(frozen=True)
class Changes:
    """What turning the schema multi-tenant under RLS changed."""

    tables: tuple[str, ...]
    constraints: tuple[str, ...]
    indexes: tuple[str, ...]
    views: tuple[str, ...]
    functions: tuple[str, ...]


def tables(conn: Conn) -> list[str]:
    rows = conn.execute(
        "select relname from pg_class where relnamespace = 'recsys'::regnamespace"
        " and relkind = 'r' order by relname"
    ).fetchall()
    return [str(name) for (name,) in rows if name not in SKIPPED]


def views(conn: Conn) -> list[str]:
    rows = conn.execute(
        "select relname from pg_class where relnamespace = 'recsys'::regnamespace"
        " and relkind = 'v' order by relname"
    ).fetchall()
    return [str(name) for (name,) in rows]


def conflicting_functions(conn: Conn) -> list[tuple[str, str]]:
    """(signature, CREATE OR REPLACE definition) of the functions whose ON
    CONFLICT names a key that make_rls widens."""
    rows = conn.execute(
        "select p.oid::regprocedure::text, pg_get_functiondef(p.oid) from pg_proc p"
        " where p.pronamespace = 'recsys'::regnamespace and p.prokind = 'f'"
        " and p.prosrc ~* 'on\\s+conflict\\s*\\(\\s*(external_id|event_key|name)\\s*\\)'"
        " order by 1"
    ).fetchall()
    return [(str(name), str(body)) for name, body in rows]


def ensure_role(conn: Conn, role: str = ROLE) -> None:
    """A role that owns nothing and may log in; kept if it exists (roles are per server)."""
    conn.execute(
        sql.SQL(
            "do $$ begin create role {} login; exception"
            " when duplicate_object or unique_violation then null; end $$"
        ).format(sql.Identifier(role))
    )


def grant(conn: Conn, role: str = ROLE) -> None:
    """What the service's role needs in schema recsys: read and write rows, draw ids."""
    who = sql.Identifier(role)
    for statement in (
        "grant usage on schema recsys to {}",
        "grant select, insert, update, delete on all tables in schema recsys to {}",
        "grant usage, select, update on all sequences in schema recsys to {}",
        "grant execute on all functions in schema recsys to {}",
    ):
        conn.execute(sql.SQL(statement).format(who))


def make_rls(conn: Conn, first_tenant: str = "a", role: str = ROLE) -> Changes:
    """Turn a migrated recsys schema multi-tenant under RLS, existing rows
    going to `first_tenant`; as the schema's owner, in the caller's transaction."""
    conn.execute("select set_config(%s, %s, true)", (SETTING, first_tenant))
    names = tables(conn)
    for table in names:
        t = sql.Identifier("recsys", table)
        conn.execute(
            sql.SQL(
                "alter table {} add column tenant_id text not null default current_setting({})"
            ).format(t, sql.Literal(SETTING))
        )
    constraints = []
    for table, constraint, column in WIDENED:
        conn.execute(
            sql.SQL("alter table {} drop constraint {}, add unique (tenant_id, {})").format(
                sql.Identifier("recsys", table), sql.Identifier(constraint), sql.Identifier(column)
            )
        )
        constraints.append(f"{table} unique ({column}) -> (tenant_id, {column})")
    for table, key in REKEYED:
        pkey = sql.Identifier(f"{table}_pkey")
        conn.execute(
            sql.SQL("alter table {} drop constraint {}, add primary key ({})").format(
                sql.Identifier("recsys", table), pkey, sql.SQL(key)
            )
        )
        constraints.append(f"{table} primary key -> ({key})")
    indexes = []
    for index, definition in INDEXES:
        conn.execute(sql.SQL("drop index recsys.{}").format(sql.Identifier(index)))
        conn.execute(definition)
        indexes.append(index)
    for table in names:
        t = sql.Identifier("recsys", table)
        conn.execute(sql.SQL("alter table {} enable row level security").format(t))
        conn.execute(sql.SQL("alter table {} force row level security").format(t))
        conn.execute(
            sql.SQL(
                "create policy tenant_isolation on {} using (tenant_id = current_setting({}))"
                " with check (tenant_id = current_setting({}))"
            ).format(t, sql.Literal(SETTING), sql.Literal(SETTING))
        )
    invoker = views(conn)
    for view in invoker:
        conn.execute(
            sql.SQL("alter view {} set (security_invoker = true)").format(
                sql.Identifier("recsys", view)
            )
        )
    functions = []
    for name, body in conflicting_functions(conn):
        conn.execute(CONFLICT.sub(r"on conflict (tenant_id, \1)", body))
        functions.append(name)
    ensure_role(conn, role)
    grant(conn, role)
    return Changes(
        tuple(names), tuple(constraints), tuple(indexes), tuple(invoker), tuple(functions)
    )


def add_tenant(conn: Conn, tenant: str, template: str = "a") -> None:
    """A new tenant's settings and neighbor_lists_state rows (defaults) and
    `template`'s event types (new ids); as the owner, who sees every row."""
    for table in PER_TENANT:
        conn.execute(
            sql.SQL("insert into {} (tenant_id) values (%s)").format(
                sql.Identifier("recsys", table)
            ),
            (tenant,),
        )
    conn.execute(
        "insert into recsys.event_types (tenant_id, name, weight, uses_value, kind, conversion)"
        " select %s, name, weight, uses_value, kind, conversion from recsys.event_types"
        " where tenant_id = %s order by id",
        (tenant, template),
    )


def as_tenant(url: str, tenant: str | None, role: str = ROLE) -> str:
    """`url` connecting as `role`, with recsys.tenant set when given."""
    options = f"-c role={role}" + (f" -c {SETTING}={tenant}" if tenant else "")
    return conninfo.make_conninfo(url, options=options)


# ------------------------------------------------------------------ checks


def leaks(url: str, tenant: str) -> dict[str, int]:
    """Rows of other tenants that `tenant` sees, per table (none when RLS holds)."""
    with psycopg.connect(as_tenant(url, tenant)) as conn:
        out = {}
        for table in tables(conn):
            row = conn.execute(
                sql.SQL("select count(*) from {} where tenant_id <> %s").format(
                    sql.Identifier("recsys", table)
                ),
                (tenant,),
            ).fetchone()
            out[table] = int(row[0]) if row else 0
    return out


def counts(url: str, tenant: str | None) -> dict[str, int]:
    """Rows per table as `tenant` sees them (plain database: tenant None)."""
    with psycopg.connect(as_tenant(url, tenant)) as conn:
        out = {}
        for table in tables(conn):
            row = conn.execute(
                sql.SQL("select count(*) from {}").format(sql.Identifier("recsys", table))
            ).fetchone()
            out[table] = int(row[0]) if row else 0
    return out


def lists(conn: Conn, users: list[str], items: list[str]) -> list[list[tuple[str, float]]]:
    """The lists timed below, for comparing the two databases."""
    out = []
    for user in users:
        for case in ("behavior_based", "popular"):
            out.append(fetch(conn, scaling.strategy(case, user)))
    for item in items:
        out.append(fetch(conn, scaling.read("similar_items", scaling.by_item(item))))
    return out


def fetch(conn: Conn, call: Callable[[Conn], object]) -> list[tuple[str, float]]:
    rows: Any = call(conn)
    return [(str(r[0]), round(float(r[1]), 9)) for r in rows]


def verify(plain: str, rls: str, users: list[str], items: list[str]) -> dict[str, Any]:
    """Assert isolation and equal lists; what was checked."""
    for tenant in ("a", "b"):
        seen = {t: n for t, n in leaks(rls, tenant).items() if n}
        assert not seen, f"tenant {tenant} sees other tenants' rows: {seen}"
    plain_counts, a_counts, b_counts = counts(plain, None), counts(rls, "a"), counts(rls, "b")
    differ = {t: (n, a_counts[t]) for t, n in plain_counts.items() if a_counts.get(t) != n}
    assert not differ, f"tenant a's rows differ from the plain database's: {differ}"
    assert b_counts["events"] > 0, "tenant b has no events"
    with psycopg.connect(as_tenant(plain, None)) as p, psycopg.connect(as_tenant(rls, "a")) as r:
        mine, theirs = lists(p, users, items), lists(r, users, items)
    assert mine == theirs, "the RLS database's lists for tenant a differ from the plain ones"
    assert sum(map(len, mine)) > 0, "every list is empty"
    return {
        "tables_isolated": len(plain_counts),
        "rows_tenant_a": sum(a_counts.values()),
        "rows_tenant_b": sum(b_counts.values()),
        "lists_compared": len(mine),
        "lists_equal": True,
    }


# ------------------------------------------------------------------ timing


def write(events: list[dict[str, str]]) -> Callable[[Conn], object]:
    params = seed.ingest_params(events)

    def call(conn: Conn) -> None:
        with conn.transaction(force_rollback=True):
            conn.execute(queries.get("ingest_events"), params)

    return call


def views_of(
    rng: random.Random, users: list[str], items: list[str], n: int
) -> list[dict[str, str]]:
    return [
        {"user_id": rng.choice(users), "product_id": rng.choice(items), "event_type": "view"}
        for _ in range(n)
    ]


def operations(
    users: list[str], items: list[str], samples: int, batches: int, seed_: int = 7
) -> dict[str, list[Callable[[Conn], object]]]:
    """Each operation's calls, warm-up calls first."""
    rng = random.Random(seed_)
    n, m = samples + warmup(samples), batches + warmup(batches)
    who = [rng.choice(users) for _ in range(n)]
    what = [rng.choice(items) for _ in range(n)]
    return {
        "behavior_based": [scaling.strategy("behavior_based", u) for u in who],
        "popular": [scaling.strategy("popular", u) for u in who],
        "similar_items": [scaling.read("similar_items", scaling.by_item(i)) for i in what],
        "write 1": [write(views_of(rng, users, items, 1)) for _ in range(n)],
        f"batch {BATCH}": [write(views_of(rng, users, items, BATCH)) for _ in range(m)],
    }


def interleaved(
    conns: dict[str, Conn], ops: dict[str, list[Callable[[Conn], object]]]
) -> dict[str, dict[str, list[float]]]:
    """ms of each call on each database: per sample every operation that has
    calls left, the two databases in an order alternating by sample."""
    names = list(conns)
    times: dict[str, dict[str, list[float]]] = {op: {n: [] for n in names} for op in ops}
    for i in range(max(map(len, ops.values()))):
        order = names if i % 2 == 0 else names[::-1]
        for op, calls in ops.items():
            if i >= len(calls):
                continue
            for name in order:
                started = time.perf_counter()
                calls[i](conns[name])
                times[op][name].append((time.perf_counter() - started) * 1000)
    return times


def figures(times: dict[str, dict[str, list[float]]], warm: dict[str, int]) -> dict[str, Any]:
    """p50/p99 of the calls after each operation's `warm` first, and the ratios."""
    out: dict[str, Any] = {}
    for op, by_db in times.items():
        skip = warm[op]
        plain = harness.summary(by_db["plain"][skip:])
        rls = harness.summary(by_db["rls"][skip:])
        out[op] = {
            "plain": plain,
            "rls": rls,
            "ratio_p50": rls["p50"] / plain["p50"],
            "ratio_p99": rls["p99"] / plain["p99"],
        }
    return out


# ------------------------------------------------------------------ the run


def build(server: str, spec: workload.Spec) -> dict[str, Any]:
    """Both databases loaded and analyzed; what it took and what make_rls changed."""
    plain = harness.fresh_database(server, PLAIN_DB)
    rls = harness.fresh_database(server, RLS_DB)
    with psycopg.connect(rls) as conn:
        changes = make_rls(conn)
        add_tenant(conn, "b")
    with psycopg.connect(plain) as conn:
        ensure_role(conn)
        grant(conn)
    shop_a = workload.generate(spec)
    shop_b = workload.generate(workload.Spec(**{**spec.__dict__, "seed": spec.seed + 1}))
    loads = {}
    for name, url, tenant, shop in (
        ("plain", plain, None, shop_a),
        ("rls a", rls, "a", shop_a),
        ("rls b", rls, "b", shop_b),
    ):
        seconds = load(url, tenant, shop)
        loads[name] = {"seconds": round(seconds, 1), "events_per_s": spec.events / seconds}
        print(f"  loaded {name}: {spec.events / seconds:,.0f} events/s", flush=True)
    return {"plain": plain, "rls": rls, "changes": changes, "loads": loads, "shop": shop_a}


def load(owner_url: str, tenant: str | None, shop: workload.Workload) -> float:
    """seed.load's items, events and neighbour lists as bench_rls, in chunks of
    LOAD_CHUNK events with the owner's ANALYZE after each: bench_rls may not
    analyze, and without statistics the policy's filter is estimated at 0.5 %
    of each table, which makes the trigger's plans quadratic (measured: 17
    events/s into the second tenant of a 10 000-event shop, in one chunk)."""
    url = as_tenant(owner_url, tenant)
    started = time.perf_counter()
    with psycopg.connect(url) as conn, psycopg.connect(owner_url, autocommit=True) as owner:
        conn.execute(queries.get("upsert_items"), {"items": Jsonb(workload.item_rows(shop))})
        conn.commit()
        owner.execute(queries.get("bench_analyze"))
        total = len(shop.event_user)
        for start in range(0, total, LOAD_CHUNK):
            seed.ingest_chunk(conn, shop, start, min(start + LOAD_CHUNK, total))
            owner.execute(queries.get("bench_analyze"))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(queries.get("refresh_neighbor_lists"), {"everything": True})
    return time.perf_counter() - started


def run(server: str, spec: workload.Spec, samples: int, batches: int) -> dict[str, Any]:
    built = build(server, spec)
    shop: workload.Workload = built["shop"]
    users = [shop.user_id(int(i)) for i in shop.active_users()]
    items = [shop.item_id(int(i)) for i in sorted(set(shop.event_item.tolist()))]
    rng = random.Random(3)
    checked = verify(built["plain"], built["rls"], rng.sample(users, 50), rng.sample(items, 50))
    print(f"  verified: {checked}", flush=True)
    ops = operations(users, items, samples, batches)
    warm = {op: warmup(batches if op.startswith("batch") else samples) for op in ops}
    with (
        psycopg.connect(as_tenant(built["plain"], None), autocommit=True) as plain,
        psycopg.connect(as_tenant(built["rls"], "a"), autocommit=True) as rls,
    ):
        load_before = harness.load_average()
        times = interleaved({"plain": plain, "rls": rls}, ops)
        load_after = harness.load_average()
    harness.drop_database(server, PLAIN_DB)
    harness.drop_database(server, RLS_DB)
    return {
        "spec": spec.__dict__,
        "samples": samples,
        "batches": batches,
        "loads": built["loads"],
        "changes": built["changes"].__dict__,
        "verified": checked,
        "load_average": {"before": load_before, "after": load_after},
        "figures": figures(times, warm),
    }


def report(results: dict[str, Any]) -> None:
    rows = [
        [
            op,
            f"{f['plain']['p50']:.3f} / {f['plain']['p99']:.3f}",
            f"{f['rls']['p50']:.3f} / {f['rls']['p99']:.3f}",
            f"{f['ratio_p50']:.2f}",
            f"{f['ratio_p99']:.2f}",
        ]
        for op, f in results["figures"].items()
    ]
    headers = ["operation", "plain p50/p99 ms", "rls p50/p99 ms", "rls/plain p50", "p99"]
    harness.print_table(
        "row-level security, tenant 'a' of 2, against one plain shop", headers, rows
    )
    changes = results["changes"]
    print(
        f"\nmake_rls: {len(changes['tables'])} tables with tenant_id and a policy,"
        f" {len(changes['constraints'])} keys widened, {len(changes['indexes'])} indexes led"
        f" by tenant_id, {len(changes['views'])} views security_invoker,"
        f" {len(changes['functions'])} functions rewritten: {', '.join(changes['functions'])}"
    )


def main() -> None:
    parser = harness.parser(__doc__ or "")
    parser.add_argument("--events", type=int, default=200_000, help="events per shop")
    parser.add_argument("--items", type=int, default=10_000, help="items per shop")
    parser.add_argument(
        "--samples", type=int, default=SAMPLES, help="timed calls per read and single write"
    )
    parser.add_argument(
        "--batches", type=int, default=BATCHES, help=f"timed batches of {BATCH} events"
    )
    args = parser.parse_args()
    spec = workload.Spec(users=max(1, args.events // 10), items=args.items, events=args.events)
    with harness.postgres() as server:
        harness.banner(server)
        results = run(server, spec, args.samples, args.batches)
    report(results)
    harness.write_json(
        args.json, {"benchmark": "rls_cost", "machine": harness.machine(), "results": results}
    )


if __name__ == "__main__":
    main()
