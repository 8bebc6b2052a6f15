"""Push latency by socket count: POST /event sent -> that user's
realtime_recommendation frame received, with 1, 100 and 1 000 WebSockets.

For each socket count N: a fresh database with the bench's synthetic shop
(--users users, 500 items, 10 events per user), `recsys serve` on a free port,
N sockets each registered to its own user. Then the push phase of `recsys
bench` (benchmarks.push.measure): --posters clients each post an event for a
watched user no other poster waits on and wait for its frame (one poster: every
post waits for the previous push). Last, events are written straight through
SQL (batches of 50 watched users, no HTTP in the server process) and the pushes
the server sends per second are counted.

    python -m benchmarks.push_latency --sockets 1,100,1000 [--posters 1] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import psycopg

from app.db import queries
from benchmarks import client, harness, push, seed, traffic, workload

ITEMS = 500
EVENTS_PER_USER = 10
WRITER_BATCH = 50  # users per SQL write in the capacity phase
WRITER_PAUSE = 0.05  # seconds between SQL writes


def shop(users: int) -> workload.Workload:
    spec = workload.Spec(users=users, items=ITEMS, events=users * EVENTS_PER_USER, seed=1)
    return workload.generate(spec)


async def capacity(
    url: str, sockets: push.Sockets, picker: traffic.Picker, seconds: float
) -> float:
    """Pushes/s the server sends when the events arrive through SQL, not HTTP."""
    before, start = push.frames(sockets), time.perf_counter()
    users = [w.user_id for w in sockets.watchers]
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        while time.perf_counter() - start < seconds:
            size = min(WRITER_BATCH, len(users))
            chosen = [str(u) for u in picker.rng.choice(users, size, replace=False)]
            events = picker.events(size, chosen)
            await conn.execute(queries.get("ingest_events"), seed.ingest_params(events))
            await asyncio.sleep(WRITER_PAUSE)
    await asyncio.sleep(1.0)  # the last pushes
    return (push.frames(sockets) - before) / (time.perf_counter() - start)


async def one_count(
    base: str, url: str, shop_: workload.Workload, n: int, args: argparse.Namespace
) -> dict[str, Any]:
    picker = traffic.Picker(shop_, seed=n)
    users = [shop_.user_id(i) for i in range(n)]
    async with client.session(base, args.posters) as http, push.watching(base, users) as sockets:
        sample = await push.measure(http, sockets, picker, args.posters, args.seconds, args.warmup)
        sql_rate = await capacity(url, sockets, picker, args.seconds)
    return {
        "sockets": n,
        "posters": args.posters,
        **harness.summary(sample.latencies_ms),
        "pushes_per_s": len(sample.latencies_ms) / sample.seconds,
        "pushes_per_s_sql_writer": sql_rate,
        "errors": sample.errors,
        "first_error": sample.first_error,
    }


def measure(server: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    name = f"bench_push_{n}"
    url = harness.fresh_database(server, name)
    try:
        shop_ = shop(max(args.users, n))
        seed.load(url, shop_, progress=False)
        with harness.served_app(url) as base:
            result = asyncio.run(one_count(base, url, shop_, n, args))
    finally:
        harness.drop_database(server, name)
    print(f"  {n} sockets: p99 {result['p99']:.1f} ms, {result['errors']} errors", flush=True)
    return result


def report(results: list[dict[str, Any]]) -> None:
    headers = ["sockets", "posters", "pushes", "p50 ms", "p95 ms", "p99 ms", "mean ms"]
    headers += ["pushes/s", "pushes/s (SQL writer)", "errors"]
    keys = ["sockets", "posters", "n", "p50", "p95", "p99", "mean"]
    keys += ["pushes_per_s", "pushes_per_s_sql_writer", "errors"]
    rows = [[r[k] for k in keys] for r in results]
    harness.print_table("push latency: POST /event -> frame received", headers, rows)
    for r in results:
        if r["first_error"]:
            print(f"  {r['sockets']} sockets: first error: {r['first_error']}")


def main(argv: list[str] | None = None) -> None:
    p = harness.parser(__doc__.splitlines()[0] if __doc__ else "push_latency")
    p.add_argument("--sockets", default="1,100,1000", help="comma-separated socket counts")
    p.add_argument("--posters", type=int, default=1, help="concurrent posting clients")
    p.add_argument("--seconds", type=float, default=10, help="measured seconds per phase")
    p.add_argument("--warmup", type=float, default=1, help="uncounted seconds first")
    p.add_argument("--users", type=int, default=2000, help="synthetic shop users")
    args = p.parse_args(argv)
    push.raise_fd_limit()  # before any server starts: it inherits the limit
    with harness.postgres() as server:
        settings = harness.banner(server)
        results = [measure(server, int(n), args) for n in args.sockets.split(",")]
    report(results)
    harness.write_json(
        args.json,
        {
            "benchmark": "push_latency",
            "machine": harness.machine(),
            "postgres": settings,
            "args": {k: str(v) for k, v in vars(args).items()},
            "results": results,
        },
    )


if __name__ == "__main__":
    main()
