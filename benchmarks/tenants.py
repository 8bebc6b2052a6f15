"""Tenants, measured: every cross-tenant request and query tried and the rows
that leaked, then what serving a tenant costs next to a single-tenant service.

A dedicated embedded server holds the default tenant and tenants `acme` and
`globex` (app/db/tenants.py). Each gets rows tagged with its name through the
API under its own key; then every tenant's key asks for every other tenant's
ids on every id route, and every tenant's SQL role queries every table of its
own database and tries the others'. Costs: the bench's small shop loaded into
the default tenant and `acme`, one `recsys serve` with keys, one without;
GET /recommend and POST /event under `acme`'s key, under the default tenant's,
and with no tenants or keys at all, interleaved in each round.

    python -m benchmarks.tenants [--rounds 3] [--seconds 6] [--json PATH]
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from typing import Any

import httpx
import psycopg
from psycopg import conninfo, sql

from app.db import migrate, tenants
from benchmarks import client, harness, seed, traffic, workload

NAMES = ("default", "acme", "globex")
SECRET = "b" * 32
PASSWORD = "bench-tenant-password"
TAGGED = 40  # tagged events per tenant
TAG = re.compile(r"\b(default|acme|globex)-[up]\d+\b")


def key(tenant: str) -> str:
    return f"bench-{tenant}-admin-key-0123456789"


def keys_env() -> str:
    return ",".join(f"{key(t)}:admin" if t == "default" else f"{key(t)}:admin@{t}" for t in NAMES)


def tagged_events(tenant: str) -> list[dict[str, str]]:
    return [
        {
            "user_id": f"{tenant}-u{i % 8}",
            "product_id": f"{tenant}-p{i % 11}",
            "event_type": ("view", "purchase")[i % 2],
        }
        for i in range(TAGGED)
    ]


def leaks(body: str, tenant: str, asked: str = "") -> int:
    """Ids of another tenant in `body`, besides those the request named itself
    (a 404 names the id it did not find)."""
    named = {m.group(0) for m in TAG.finditer(asked)}
    return sum(1 for m in TAG.finditer(body) if m.group(1) != tenant and m.group(0) not in named)


def id_routes(owner: str) -> list[str]:
    """Every route that takes an id, on `owner`'s tagged ids."""
    routes = []
    for n in range(3):
        u, p = f"{owner}-u{n}", f"{owner}-p{n}"
        routes += [
            f"/items/{p}",
            f"/items/{p}/similar",
            f"/items/{p}/bought-together",
            f"/items/{p}/then-bought",
            f"/users/{u}/history",
            f"/users/{u}/similar",
            f"/predict?user_id={u}&product_id={p}",
            f"/recommend?user_id={u}&case=behavior_based",
            f"/recommend?case=content_based&product_id={p}",
        ]
    return routes


def tag(base: str) -> None:
    """Each tenant's tagged events, through the API under its own key."""
    with httpx.Client(base_url=base, timeout=30) as http:
        for tenant in NAMES:
            events = {"events": tagged_events(tenant)}
            sent = http.post("/events", json=events, headers={"X-API-Key": key(tenant)})
            assert sent.status_code == 201, sent.text


def api_sweep(base: str) -> dict[str, int]:
    """Each tenant's key on the others' ids (and its own listings): requests, leaks.
    Run after sql_sweep: the ledger logs each request, the ids it asked for included."""
    tally: Counter[str] = Counter()
    with httpx.Client(base_url=base, timeout=30) as http:
        for tenant in NAMES:
            mine = {"X-API-Key": key(tenant)}
            paths = ["/items?limit=1000", "/recommend?user_id=x&case=popular&k=100"]
            paths += [p for other in NAMES if other != tenant for p in id_routes(other)]
            for path in paths:
                response = http.get(path, headers=mine)
                tally["requests"] += 1
                tally["not_found"] += response.status_code == 404
                tally["rows_leaked"] += leaks(response.text, tenant, path)
    return dict(tally)


def role_url(url: str, role: str) -> str:
    params = conninfo.conninfo_to_dict(url)
    params.update(user=role, password=PASSWORD)
    return conninfo.make_conninfo(**params)  # type: ignore[arg-type]


def sql_sweep(base_url: str) -> dict[str, int]:
    """Each tenant role: every table of its database, and a try at the others'."""
    tally: Counter[str] = Counter()
    urls = {t: tenants.url_for(base_url, t) for t in NAMES}
    for tenant in NAMES[1:]:
        role = tenants.database_name(base_url, tenant)
        for target, url in urls.items():
            try:
                with psycopg.connect(role_url(url, role), autocommit=True) as conn:
                    tables = conn.execute(
                        "select tablename from pg_tables where schemaname = 'recsys'"
                    ).fetchall()
                    for (table,) in tables:
                        tally["queries"] += 1
                        query = sql.SQL("select t::text from recsys.{} t").format(
                            sql.Identifier(str(table))
                        )
                        try:
                            rows = conn.execute(query).fetchall()
                        except psycopg.errors.InsufficientPrivilege:
                            tally["refused"] += 1
                            continue
                        text = "\n".join(str(r[0]) for r in rows)
                        tally["rows_leaked"] += leaks(text, tenant)
                        if target != tenant:
                            tally["rows_leaked"] += len(rows)  # any row of theirs is a leak
            except psycopg.OperationalError:
                tally["queries"] += 1
                tally["connections_refused"] += 1
    return dict(tally)


def costs(base_url: str, shop: workload.Workload, s: Any) -> list[dict[str, Any]]:
    picker = traffic.Picker(shop, 5)
    phases = {
        "behavior_based": traffic.reads(traffic.case("behavior_based"), picker),
        "event": traffic.single_events(picker),
    }
    env = {"REC_API_KEYS": keys_env(), "REC_TOKEN_SECRET": SECRET}
    rounds = []
    with (
        harness.served_app(base_url, s.workers) as alone,
        harness.served_app(base_url, s.workers, env=env) as shared,
    ):
        for r in range(s.rounds):
            row = {}
            for name, requests in phases.items():
                for label, base, headers in (
                    ("no tenants", alone, None),
                    ("default key", shared, {"X-API-Key": key("default")}),
                    ("acme key", shared, {"X-API-Key": key("acme")}),
                ):
                    got = asyncio.run(client.rate(base, requests, s, headers))
                    row[f"{name} {label}"] = got
                    print(f"round {r + 1} {name} {label}: {got}", flush=True)
            rounds.append(row)
    return rounds


def main(argv: list[str] | None = None) -> None:
    p = harness.parser(__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=6.0)
    p.add_argument("--warmup", type=float, default=1.5)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--workers", type=int, default=1)
    s = p.parse_args(argv)
    before = harness.load_average()
    shop = workload.generate(workload.Spec(users=5_000, items=500, events=50_000, seed=5))
    results: dict[str, Any] = {}
    with harness.postgres() as server_url:
        base_url = harness.fresh_database(server_url, "bench_tenants")
        migrate.upgrade(base_url)
        for tenant in NAMES[1:]:
            tenants.create(base_url, tenant, PASSWORD)
        for url in (base_url, tenants.url_for(base_url, "acme")):
            seed.load(url, shop, progress=False)
        env = {"REC_API_KEYS": keys_env(), "REC_TOKEN_SECRET": SECRET}
        with harness.served_app(base_url, s.workers, env=env) as base:
            tag(base)
            results["sql"] = sql_sweep(base_url)
            results["api"] = api_sweep(base)
        print(f"across tenants: {results['api']} {results['sql']}", flush=True)
        results["rounds"] = costs(base_url, shop, s)
    report(results)
    results |= {"uptime_before": before, "uptime_after": harness.load_average()}
    results |= {"machine": harness.machine(), "options": vars(s)}
    harness.write_json(s.json, results)


def report(results: dict[str, Any]) -> None:
    rounds = results["rounds"]
    rows = []
    for phase in ("behavior_based", "event"):
        for label in ("no tenants", "default key", "acme key"):
            name = f"{phase} {label}"
            ratio = harness.median(
                [r[name]["per_s"] / r[f"{phase} no tenants"]["per_s"] for r in rounds]
            )
            rows.append(
                [
                    name,
                    harness.median([r[name]["per_s"] for r in rounds]),
                    harness.median([r[name]["p99"] for r in rounds]),
                    ratio,
                    sum(r[name]["errors"] for r in rounds),
                ]
            )
    harness.print_table(
        "medians over rounds", ["phase", "per s", "p99 ms", "x no tenants", "errors"], rows
    )


if __name__ == "__main__":
    main()
