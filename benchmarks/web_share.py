"""The web layer's share of each read: the same list over HTTP (16 clients, the
served app) and straight from the recommenders' Python over 16 psycopg
connections (the exact statements the handler runs: no server, no Quart), in
interleaved rounds on one database. The ratio HTTP / direct is what the web
layer leaves of the SQL's throughput (the goal: >= 0.6); GET /health is paired
with its `select 1`.

The database is the bench's synthetic shop at a size that trains in a minute
(--users, --items, --events), trained (EASE, content, hybrid weights) so every
case runs its own strategy. The app is `recsys serve --workers W` under the
default server (REC_SERVER picks another).

    python -m benchmarks.web_share [--rounds 2] [--seconds 6] [--cases a,b] [--json PATH]
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
from psycopg.rows import dict_row

from app import recommenders
from app.db import queries
from app.recommenders.base import Exposure, Query
from benchmarks import client, harness, seed, traffic, workload

Direct = Callable[[psycopg.AsyncConnection[Any], str], Awaitable[Any]]
DEFAULT_CASES = (
    "health",
    "popular",
    "similar",
    "content_based_item",
    "content_based",
    "behavior_based",
    "collaborative",
    "hybrid_adaptive",
    "hybrid_switching",
)


def direct_call(name: str) -> Direct:
    """What the handler of case `name` runs, given a connection and a user or item id."""
    exposure = Exposure(surface="recommend")
    if name == "health":
        return lambda conn, _: conn.execute(queries.get("health"))
    if name in ("similar", "similar_content"):
        by = "content" if name == "similar_content" else "cooccurrence"
        return lambda conn, item: recommenders.serve_similar(
            conn, Query(product_id=item), by, replace_surface(exposure, "similar")
        )
    if name == "content_based_item":
        return lambda conn, item: recommenders.serve(
            conn, "content_based", Query(product_id=item), exposure
        )
    # The bench names the default hybrid by its method too (benchmarks.traffic).
    case, method = recommenders.VARIANTS["hybrid" if name == "hybrid_adaptive" else name]
    return lambda conn, user: recommenders.serve(
        conn, case, Query(user_id=user, method=method), exposure
    )


def replace_surface(exposure: Exposure, surface: str) -> Exposure:
    return Exposure(surface=surface, log=exposure.log)


async def sql_loop(
    url: str, call: Direct, keys: list[str], concurrency: int, seconds: float, warmup: float
) -> dict[str, float]:
    conns = [
        await psycopg.AsyncConnection.connect(url, autocommit=True, row_factory=dict_row)
        for _ in range(concurrency)
    ]
    latencies: list[float] = []
    turn = iter(range(10**12))
    begin = time.perf_counter() + warmup
    end = begin + seconds

    async def worker(conn: psycopg.AsyncConnection[Any]) -> None:
        while (start := time.perf_counter()) < end:
            await call(conn, keys[next(turn) % len(keys)])
            if start >= begin:
                latencies.append((time.perf_counter() - start) * 1000)

    try:
        await asyncio.gather(*(worker(c) for c in conns))
    finally:
        for conn in conns:
            await conn.close()
    return {"per_s": len(latencies) / seconds, "p99": harness.percentile(latencies, 99)}


async def http_loop(base: str, requests: list[client.Request], s: Any) -> dict[str, float]:
    async with client.session(base, s.concurrency) as http:
        sample = await client.closed_loop(http, requests, s.concurrency, s.seconds, s.warmup)
    return {
        "per_s": len(sample.latencies_ms) / sample.seconds,
        "p99": harness.percentile(sample.latencies_ms, 99),
        "errors": sample.errors,
    }


def requests_and_keys(name: str, picker: traffic.Picker) -> tuple[list[client.Request], list[str]]:
    if name == "health":
        return traffic.health(), [""]
    case = traffic.case(name)
    keys = picker.user_ids(traffic.URLS) if case.by == "user" else picker.item_ids(traffic.URLS)
    return [client.Request("GET", case.path(k)) for k in keys], keys


def main(argv: list[str] | None = None) -> None:
    p = harness.parser(__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--seconds", type=float, default=6.0)
    p.add_argument("--warmup", type=float, default=1.5)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--users", type=int, default=20_000)
    p.add_argument("--items", type=int, default=2_000)
    p.add_argument("--events", type=int, default=200_000)
    p.add_argument("--cases", default=",".join(DEFAULT_CASES))
    s = p.parse_args(argv)
    names = [n for n in s.cases.split(",") if n]
    before = harness.load_average()
    shop = workload.generate(workload.Spec(s.users, s.items, s.events, seed=11))
    picker = traffic.Picker(shop, 11)
    plans = {n: requests_and_keys(n, picker) for n in names}
    rows: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    with harness.postgres() as server_url:
        harness.banner(server_url)
        url = harness.fresh_database(server_url, f"bench_web_{uuid.uuid4().hex[:8]}")
        seed.load(url, shop, progress=False)
        seconds, kinds = seed.train(url, progress=False)
        print(f"loaded and trained {', '.join(kinds)} ({seconds:.0f}s)", flush=True)
        with harness.served_app(url, s.workers) as base:
            for r in range(s.rounds):
                for name in names:
                    requests, keys = plans[name]
                    over_http = asyncio.run(http_loop(base, requests, s))
                    direct = asyncio.run(
                        sql_loop(url, direct_call(name), keys, s.concurrency, s.seconds, s.warmup)
                    )
                    ratio = over_http["per_s"] / direct["per_s"]
                    rows[name].append({"http": over_http, "sql": direct, "ratio": ratio})
                    print(
                        f"round {r + 1} {name:>20}: HTTP {over_http['per_s']:6.0f}/s"
                        f" p99 {over_http['p99']:6.1f} ms | direct {direct['per_s']:6.0f}/s"
                        f" p99 {direct['p99']:6.1f} ms | ratio {ratio:.2f}",
                        flush=True,
                    )
    out = summarise(rows)
    out |= {"uptime_before": before, "uptime_after": harness.load_average()}
    out |= {"machine": harness.machine(), "options": vars(s)}
    harness.write_json(s.json, out)


def summarise(rows: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    health = rows.get("health")
    table, summary = [], {}
    for name, runs in rows.items():
        row = {
            "http_per_s": harness.median([r["http"]["per_s"] for r in runs]),
            "http_p99_ms": harness.median([r["http"]["p99"] for r in runs]),
            "sql_per_s": harness.median([r["sql"]["per_s"] for r in runs]),
            "sql_p99_ms": harness.median([r["sql"]["p99"] for r in runs]),
            "http_over_sql": harness.median([r["ratio"] for r in runs]),
            "x_health": (
                harness.median(
                    [
                        r["http"]["per_s"] / h["http"]["per_s"]
                        for r, h in zip(runs, health, strict=True)
                    ]
                )
                if health
                else float("nan")
            ),
            "errors": sum(r["http"].get("errors", 0) for r in runs),
        }
        summary[name] = row
        table.append([name, *row.values()])
    harness.print_table(
        f"medians of {len(next(iter(rows.values())))} interleaved rounds",
        ["case", "HTTP/s", "HTTP p99", "direct/s", "direct p99", "HTTP/direct", "x health", "err"],
        table,
    )
    return {"cases": summary, "rounds": rows}


if __name__ == "__main__":
    main()
