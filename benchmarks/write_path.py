"""The write path under `recsys bench`'s event mix, straight through
recsys.ingest_events (no HTTP): batches of events of active users (drawn by
activity, as the bench's POST /events phase draws them) and single events,
into a database already holding the bench's kind of shop.

docs/performance.md compares it with a pair-delta log prototype (kept off
main), whose copy of this script also timed its fold.

    python -m benchmarks.write_path [--users 20000] [--items 10000]
        [--events 300000] [--batch 1000] [--batches 20] [--singles 300] [--json PATH]
"""

from __future__ import annotations

import argparse
from typing import Any

import psycopg

from app.db import queries
from benchmarks import harness, seed, workload
from benchmarks.traffic import Picker

DB = "bench_write_path"


def timed_writes(conn: psycopg.Connection[Any], batches: list[list[dict[str, str]]]) -> list[float]:
    """Seconds of each recsys.ingest_events call (one transaction each)."""
    out = []
    for events in batches:
        with harness.Stopwatch() as t:
            conn.execute(queries.get("ingest_events"), seed.ingest_params(events))
        out.append(t.seconds)
    return out


def phase(
    conn: psycopg.Connection[Any], name: str, batches: list[list[dict[str, str]]]
) -> dict[str, Any]:
    writes = timed_writes(conn, batches)
    events = sum(len(b) for b in batches)
    return {
        "phase": name,
        "events": events,
        "write_s": sum(writes),
        "events_per_s": events / sum(writes),
        "p50_ms": harness.percentile(writes, 50) * 1000,
        "p99_ms": harness.percentile(writes, 99) * 1000,
    }


def run(server_url: str, args: argparse.Namespace) -> dict[str, Any]:
    spec = workload.Spec(users=args.users, items=args.items, events=args.events)
    w = workload.generate(spec)
    url = harness.fresh_database(server_url, DB)
    try:
        loaded = seed.load(url, w)
        picker = Picker(w, seed=7)
        with psycopg.connect(url, autocommit=True) as conn:
            batches = [picker.events(args.batch) for _ in range(args.batches)]
            singles = [picker.events(1) for _ in range(args.singles)]
            results = [
                phase(conn, f"batches of {args.batch}", batches),
                phase(conn, "single events", singles),
            ]
        return {"seeded": loaded.events, "seed_s": loaded.seconds, "phases": results}
    finally:
        harness.drop_database(server_url, DB)


def report(r: dict[str, Any]) -> None:
    rows = [
        [
            p["phase"],
            p["events"],
            harness.fmt(p["write_s"]),
            round(p["events_per_s"]),
            harness.fmt(p["p50_ms"]),
            harness.fmt(p["p99_ms"]),
        ]
        for p in r["phases"]
    ]
    harness.print_table(
        f"write path; seeded {r['seeded']} events in {r['seed_s']:.1f} s",
        ["phase", "events", "writes s", "events/s", "p50 ms", "p99 ms"],
        rows,
    )


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = harness.parser(__doc__.splitlines()[0] if __doc__ else "write_path")
    p.add_argument("--users", type=int, default=20_000)
    p.add_argument("--items", type=int, default=10_000)
    p.add_argument("--events", type=int, default=300_000)
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--batches", type=int, default=20)
    p.add_argument("--singles", type=int, default=300)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    with harness.postgres() as server_url:
        settings = harness.banner(server_url)
        result = run(server_url, args)
    report(result)
    payload = {
        "machine": harness.machine(),
        "postgres": settings,
        "args": vars(args) | {"json": None},
        "result": result,
    }
    harness.write_json(args.json, payload)
    return payload


if __name__ == "__main__":
    main()
