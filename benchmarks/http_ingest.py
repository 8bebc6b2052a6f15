"""POST /events throughput against the served app, next to the same batches
sent straight to recsys.ingest_events through psycopg (no HTTP).

Each batch is sent once, by --concurrency closed-loop clients (the client and
request of `recsys bench`'s events phase), into a fresh database: the wall
time is that of storing the whole workload.

    python -m benchmarks.http_ingest [--users 20000] [--batch 5000]
        [--concurrency 1,2] [--workloads shop,ml100k] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from app.api.events import to_new_event
from app.api.models import EventBatch
from app.db import queries
from app.demo import shop
from benchmarks import client, harness, seed

DB = "bench_http_ingest"
GOAL = 20_000  # events/s

Event = dict[str, Any]


@dataclass
class Workload:
    name: str
    events: list[Event]
    items: list[Event]  # catalogue upserted before timing (empty: created by the events)


@dataclass
class Run:
    workload: str
    path: str  # http | sql
    concurrency: int
    events: int
    batches: int
    seconds: float
    latency_ms: dict[str, float]
    stored: int
    db_seconds: float = math.nan  # inside recsys.ingest_events (pg_stat_user_functions)
    trigger_seconds: float = math.nan  # inside recsys.on_events_inserted
    error: str | None = None

    @property
    def rate(self) -> float:
        return self.events / self.seconds


# ------------------------------------------------------------------ workloads


def shop_workload(users: int, items: int) -> Workload:
    generated = shop.generate(n_users=users, n_items=items, events_per_user=10)
    return Workload(f"shop {users} users x 10", generated.events, generated.items)


def ml100k_workload(data: Path, ratings: bool = True) -> Workload:
    """u.data in file order: rating events (value = rating), or the same rows as views."""
    events = []
    for line in harness.ml100k_file(data, "u.data").read_text().splitlines():
        user, item, rating, ts = line.split("\t")
        event: Event = {"user_id": user, "product_id": item, "timestamp": int(ts)}
        event.update(
            {"event_type": "rating", "value": float(rating)} if ratings else {"event_type": "view"}
        )
        events.append(event)
    return Workload("ml-100k ratings" if ratings else "ml-100k as views", events, [])


def workloads(args: argparse.Namespace) -> list[Workload]:
    makers = {
        "shop": lambda: shop_workload(args.users, args.items),
        "ml100k": lambda: ml100k_workload(args.data),
        "ml100k-views": lambda: ml100k_workload(args.data, ratings=False),
    }
    return [makers[name]() for name in args.workloads.split(",")]


def batches(events: list[Event], size: int) -> list[list[Event]]:
    return [events[i : i + size] for i in range(0, len(events), size)]


# ------------------------------------------------------------------ runners


async def over_http(base: str, batches_: list[list[Event]], concurrency: int) -> client.Sample:
    requests = [client.post_events(batch) for batch in batches_]
    async with client.session(base, concurrency) as http:
        return await client.closed_loop(http, requests, concurrency, repeat=False)


async def drive(
    send: Callable[[int], Awaitable[None]], n: int, concurrency: int
) -> tuple[float, list[float]]:
    """Send SQL batches 0..n-1 with `concurrency` workers; wall seconds and per-batch ms."""
    latencies: list[float] = []
    todo = iter(range(n))

    async def worker() -> None:
        for i in todo:
            with harness.Stopwatch() as t:
                await send(i)
            latencies.append(t.seconds * 1000)

    with harness.Stopwatch() as wall:
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return wall.seconds, latencies


async def over_sql(
    url: str, params: list[dict[str, list[Any]]], concurrency: int
) -> tuple[float, list[float]]:
    conns = [await psycopg.AsyncConnection.connect(url) for _ in range(concurrency)]
    idle = asyncio.Queue[psycopg.AsyncConnection[Any]]()
    for conn in conns:
        idle.put_nowait(conn)

    async def send(i: int) -> None:
        conn = await idle.get()
        await conn.execute(queries.get("ingest_events"), params[i])
        await conn.commit()
        idle.put_nowait(conn)

    try:
        return await drive(send, len(params), concurrency)
    finally:
        for conn in conns:
            await conn.close()


def prepare_database(server_url: str, workload: Workload) -> str:
    url = harness.fresh_database(server_url, DB)
    harness.track_functions(server_url, DB)  # for "where the time goes"
    if workload.items:
        with psycopg.connect(url) as conn:
            conn.execute(queries.get("upsert_items"), {"items": Jsonb(workload.items)})
    return url


def stored_events(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(queries.get("bench_stored_events")).fetchone()
    return int(row[0]) if row else 0


def measure(
    server_url: str, workload: Workload, path: str, concurrency: int, size: int, workers: int
) -> Run:
    chunks = batches(workload.events, size)
    url = prepare_database(server_url, workload)
    error = None
    try:
        if path == "http":
            with harness.served_app(url, workers, quiet=True) as base:
                sample = asyncio.run(over_http(base, chunks, concurrency))
            wall, latencies, error = sample.seconds, sample.latencies_ms, sample.first_error
        else:
            params = [seed.ingest_params(b) for b in chunks]
            wall, latencies = asyncio.run(over_sql(url, params, concurrency))
    except (RuntimeError, psycopg.Error) as failure:
        notes = getattr(failure, "__notes__", [])
        error, wall, latencies = " / ".join([str(failure).splitlines()[0], *notes]), math.nan, []
    spent = harness.function_seconds(url)
    run = Run(
        workload.name,
        path,
        concurrency,
        len(workload.events),
        len(chunks),
        wall,
        harness.summary(latencies),
        stored_events(url),
        spent.get("ingest_events", math.nan),
        spent.get("on_events_inserted", math.nan),
        error,
    )
    harness.drop_database(server_url, DB)
    outcome = f"FAILED: {error}" if error else f"{run.rate:,.0f} events/s"
    print(f"  {run.workload}, {path}, concurrency {concurrency}: {outcome}", flush=True)
    return run


# ------------------------------------------------------------------ where the time goes


def python_costs(workload: Workload, size: int) -> dict[str, float]:
    """Median ms per batch of the web layer's pure-Python steps, run in this process:
    JSON decoding (Quart uses the stdlib json), pydantic validation, conversion."""
    steps: dict[str, list[float]] = {"json.loads": [], "pydantic": [], "to_new_event": []}
    for batch in batches(workload.events, size):
        body = client.post_events(batch).body or b""
        with harness.Stopwatch() as t:
            raw = json.loads(body)
        steps["json.loads"].append(t.seconds * 1000)
        with harness.Stopwatch() as t:
            model = EventBatch.model_validate(raw)
        steps["pydantic"].append(t.seconds * 1000)
        with harness.Stopwatch() as t:
            [to_new_event(e) for e in model.events]
        steps["to_new_event"].append(t.seconds * 1000)
    return {name: harness.median(values) for name, values in steps.items()}


# ------------------------------------------------------------------ output


def report(runs: list[Run], costs: dict[str, dict[str, float]], args: argparse.Namespace) -> None:
    harness.print_table(
        f"ingest throughput, batches of {args.batch} (goal >= {GOAL:,} events/s over HTTP)",
        [
            "workload",
            "path",
            "conc",
            "events",
            "batches",
            "wall s",
            "events/s",
            "p50 ms",
            "p99 ms",
            "stored",
        ],
        [
            [
                r.workload,
                r.path,
                r.concurrency,
                r.events,
                r.batches,
                r.seconds,
                r.rate,
                r.latency_ms["p50"],
                r.latency_ms["p99"],
                r.stored,
            ]
            for r in runs
        ],
    )
    harness.print_table(
        "where the time goes: seconds in total (sum over batches; concurrent batches overlap)",
        [
            "workload",
            "path",
            "conc",
            "wall s",
            "in ingest_events s",
            "of which trigger s",
            "outside the db s",
            "wall vs sql path",
        ],
        [
            [
                r.workload,
                r.path,
                r.concurrency,
                r.seconds,
                r.db_seconds,
                r.trigger_seconds,
                r.seconds - r.db_seconds if r.concurrency == 1 else math.nan,
                r.seconds / _direct(runs, r).seconds,
            ]
            for r in runs
        ],
    )
    harness.print_table(
        f"web layer's Python per batch of {args.batch}, median ms (measured in this process)",
        ["workload", *next(iter(costs.values()), {}).keys(), "total"],
        [[name, *c.values(), sum(c.values())] for name, c in costs.items()],
    )


def _direct(runs: list[Run], run: Run) -> Run:
    """The sql-path run matching `run` (itself when none)."""
    return next(
        (
            r
            for r in runs
            if r.path == "sql" and r.workload == run.workload and r.concurrency == run.concurrency
        ),
        run,
    )


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = harness.parser(__doc__.splitlines()[0] if __doc__ else "http_ingest")
    p.add_argument("--users", type=int, default=20_000, help="shop users (10 events each)")
    p.add_argument("--items", type=int, default=1_000, help="shop catalogue size")
    p.add_argument("--batch", type=int, default=5_000, help="events per POST")
    p.add_argument("--concurrency", default="1,2", help="comma-separated client concurrencies")
    p.add_argument(
        "--workloads",
        default="shop,ml100k",
        help="comma-separated: shop, ml100k (ratings), ml100k-views (same rows as views)",
    )
    p.add_argument("--paths", default="http,sql", help="http and/or sql (direct psycopg)")
    p.add_argument("--workers", type=int, default=1, help="recsys serve --workers")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    loads = workloads(args)
    levels = [int(c) for c in args.concurrency.split(",")]
    with harness.postgres() as server_url:
        settings = harness.banner(server_url)
        runs = [
            measure(server_url, w, path, c, args.batch, args.workers)
            for w in loads
            for c in levels
            for path in args.paths.split(",")
        ]
    costs = {w.name: python_costs(w, args.batch) for w in loads}
    report(runs, costs, args)
    harness.write_json(
        args.json,
        {
            "benchmark": "http_ingest",
            "machine": harness.machine(),
            "postgres": settings,
            "args": {k: str(v) for k, v in vars(args).items()},
            "runs": [{**asdict(r), "events_per_s": r.rate} for r in runs],
            "python_ms_per_batch": costs,
        },
    )


if __name__ == "__main__":
    main()
