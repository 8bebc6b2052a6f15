"""Recommendation latency with MovieLens 100K loaded: the SQL functions timed from
a client over the unix socket (and by EXPLAIN ANALYZE), then the same calls over
HTTP, sequentially and with concurrent clients next to GET /health.

    python -m benchmarks.recommend_latency [--samples N] [--concurrency 16]
        [--requests 2000] [--explain 50] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import random
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import psycopg

from app import recommenders
from app.db import queries
from app.importing.events import import_events
from app.importing.formats import event_format, item_format
from app.importing.items import import_items
from app.recommenders.base import Query
from benchmarks import client, harness, traffic

DB = "bench_recommend"
K = 10
WARMUP = 20  # calls before timing: caches, prepared statements, connections


@dataclass(frozen=True)
class Case:
    request: traffic.Case  # the HTTP request, as recsys bench sends it
    # The strategy the service runs for it (through the `recommend` named query),
    # or None for /items/{id}/similar (the `similar_items` query).
    strategy: str | None

    @property
    def query(self) -> str:
        return "similar_items" if self.strategy is None else "recommend"

    @property
    def name(self) -> str:
        return self.request.name

    @property
    def keys(self) -> str:
        return "users" if self.request.by == "user" else "items"

    def params(self, key: str) -> dict[str, Any]:
        if self.strategy is not None:
            return recommenders.recommend_params(self.strategy, Query(user_id=key, k=K))
        return {"product_id": key, "k": K, "exclude": [], "category": None}

    def path(self, key: str) -> str:
        return self.request.path(quote(key, safe=""))


CASES = [
    Case(traffic.case("behavior_based"), "behavior_based"),
    Case(traffic.case("popular"), "popular"),
    Case(traffic.case("similar"), None),
]


# ------------------------------------------------------------------ setup


def load(server_url: str, args: argparse.Namespace, name: str = DB) -> str:
    """A fresh database `name` with ml-100k items and ratings (args.pair_window), analyzed
    unless args.analyze is false."""
    url = harness.fresh_database(server_url, name)
    with psycopg.connect(url) as conn:
        conn.execute(
            queries.get("apply_tunables"),
            {"pair_window": args.pair_window, "page_ttl_minutes": None, "attribution_hours": None},
        )
    items = harness.ml100k_file(args.data, "u.item")
    ratings = harness.ml100k_file(args.data, "u.data")
    with harness.Stopwatch() as t:
        import_items(url, items, item_format("movielens-100k"), progress=False)
        import_events(url, ratings, event_format("movielens-100k"), progress=False)
    print(f"  loaded ml-100k in {t.seconds:.1f}s (pair_window {args.pair_window})", flush=True)
    if args.analyze:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(queries.get("bench_analyze"))
    return url


def keys(url: str, samples: int | None, seed: int) -> dict[str, list[str]]:
    """All user and item ids, or `samples` random ones of each."""
    with psycopg.connect(url) as conn:
        found = {
            "users": [r[0] for r in conn.execute(queries.get("bench_user_ids"))],
            "items": [r[0] for r in conn.execute(queries.get("bench_item_ids"))],
        }
    if samples:
        rng = random.Random(seed)
        found = {k: rng.sample(v, min(samples, len(v))) for k, v in found.items()}
    return found


# ------------------------------------------------------------------ SQL


def sql_latencies(url: str, case: Case, ids: list[str]) -> list[float]:
    """ms per call, prepared statement, rows fetched; a short warm-up first."""
    query = queries.get(case.query)
    with psycopg.connect(url, autocommit=True) as conn:
        for key in ids[:WARMUP]:
            conn.execute(query, case.params(key), prepare=True).fetchall()
        latencies = []
        for key in ids:
            with harness.Stopwatch() as t:
                rows = conn.execute(query, case.params(key), prepare=True).fetchall()
            latencies.append(t.seconds * 1000)
            if len(rows) != K:
                raise RuntimeError(f"{case.name}({key!r}) returned {len(rows)} rows, not {K}")
    return latencies


def explain_times(url: str, case: Case, ids: list[str]) -> list[float]:
    """EXPLAIN (ANALYZE, FORMAT JSON) 'Execution Time' in ms for each id."""
    # A fixed prefix on a named query: nothing from input reaches the SQL text.
    explain = "explain (analyze, format json) " + queries.get(case.query)
    with psycopg.connect(url, autocommit=True) as conn:
        times = []
        for key in ids:
            row = conn.execute(explain, case.params(key)).fetchone()
            assert row is not None
            times.append(float(row[0][0]["Execution Time"]))
    return times


# ------------------------------------------------------------------ HTTP


async def http_run(base: str, paths: list[str], concurrency: int) -> client.Sample:
    """Each path fetched once by `concurrency` closed-loop clients, after a warm-up."""
    requests = [client.Request("GET", path) for path in paths]
    async with client.session(base, concurrency) as http:
        await client.closed_loop(http, requests[:WARMUP], concurrency, repeat=False)
        sample = await client.closed_loop(http, requests, concurrency, repeat=False)
    if sample.errors:
        raise RuntimeError(f"{sample.errors} failed requests, the first: {sample.first_error}")
    return sample


def request_mix(case: Case | None, ids: dict[str, list[str]], n: int) -> list[str]:
    """n request paths cycling over the case's ids (GET /health when no case)."""
    if case is None:
        return ["/health"] * n
    pool = ids[case.keys]
    return [case.path(pool[i % len(pool)]) for i in range(n)]


# ------------------------------------------------------------------ run


def measure(url: str, args: argparse.Namespace, ids: dict[str, list[str]]) -> dict[str, Any]:
    latency: dict[str, dict[str, float]] = {}
    for case in CASES:
        keys_ = ids[case.keys]
        latency[f"{case.name} | sql (client, prepared)"] = harness.summary(
            sql_latencies(url, case, keys_)
        )
        latency[f"{case.name} | sql EXPLAIN Execution Time"] = harness.summary(
            explain_times(url, case, keys_[: args.explain])
        )
        print(f"  {case.name}: sql done", flush=True)
    served: dict[str, Any] = {}
    with harness.served_app(url, args.workers) as base:
        for case in CASES:
            paths = [case.path(key) for key in ids[case.keys]]
            sample = asyncio.run(http_run(base, paths, 1))
            latency[f"{case.name} | http (sequential)"] = harness.summary(sample.latencies_ms)
            print(f"  {case.name}: http done", flush=True)
        if args.concurrency > 0:
            served = concurrent(base, args, ids)
    return {"latency_ms": latency, "throughput": served}


def concurrent(base: str, args: argparse.Namespace, ids: dict[str, list[str]]) -> dict[str, Any]:
    results = {}
    for case in [None, *CASES]:
        name = case.name if case else "health"
        paths = request_mix(case, ids, args.requests)
        sample = asyncio.run(http_run(base, paths, args.concurrency))
        results[name] = {
            "requests": len(paths),
            "seconds": sample.seconds,
            "rps": len(paths) / sample.seconds,
            **harness.summary(sample.latencies_ms),
        }
        print(f"  {name}: {results[name]['rps']:,.0f} requests/s", flush=True)
    return results


def report(results: dict[str, Any], args: argparse.Namespace) -> None:
    harness.print_table(
        f"latency in ms (k={K}); sql = psycopg over the unix socket, client-timed",
        ["case | layer", "n", "mean", "p50", "p95", "p99", "max"],
        [
            [name, s["n"], s["mean"], s["p50"], s["p95"], s["p99"], s["max"]]
            for name, s in results["latency_ms"].items()
        ],
    )
    if results["throughput"]:
        harness.print_table(
            f"throughput, {args.concurrency} concurrent clients, {args.workers} server worker(s)",
            ["endpoint", "requests", "seconds", "requests/s", "p50 ms", "p99 ms"],
            [
                [name, r["requests"], r["seconds"], r["rps"], r["p50"], r["p99"]]
                for name, r in results["throughput"].items()
            ],
        )


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = harness.parser(__doc__.splitlines()[0] if __doc__ else "recommend_latency")
    p.add_argument(
        "--samples",
        type=int,
        default=None,
        help="random users and items to query (default: all 943 users, 1682 items)",
    )
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--explain", type=int, default=50, help="ids timed by EXPLAIN ANALYZE")
    p.add_argument("--concurrency", type=int, default=16, help="concurrent clients; 0: skip")
    p.add_argument(
        "--requests", type=int, default=2000, help="requests per concurrent run (all clients)"
    )
    p.add_argument("--workers", type=int, default=1, help="recsys serve --workers")
    p.add_argument("--pair-window", type=int, default=200, help="recsys.settings.pair_window")
    p.add_argument(
        "--no-analyze", dest="analyze", action="store_false", help="skip ANALYZE after the import"
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    with harness.postgres() as server_url:
        settings = harness.banner(server_url)
        url = load(server_url, args)
        ids = keys(url, args.samples, args.seed)
        results = measure(url, args, ids)
        harness.drop_database(server_url, DB)
    report(results, args)
    harness.write_json(
        args.json,
        {
            "benchmark": "recommend_latency",
            "machine": harness.machine(),
            "postgres": settings,
            "args": {k: str(v) for k, v in vars(args).items()},
            **results,
        },
    )


if __name__ == "__main__":
    main()
