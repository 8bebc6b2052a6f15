"""The write path under `recsys bench`'s event mix, straight through
recsys.ingest_events (no HTTP): batches of events of active users (drawn by
activity, as the bench's POST /events phase draws them) and single events,
into a database already holding the bench's kind of shop.

On a build with a pair-delta log (a recsys.fold_pair_deltas function: the
prototype docs/performance.md measured) a write appends its pair increments
and the fold applies them later; the report then gives the writes alone, the
folds alone, and the two together (what the machine sustains when the fold
keeps up). On main, without one, the writes are the whole cost.

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


def has_fold(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute("select to_regproc('recsys.fold_pair_deltas') is not null").fetchone()
    return bool(row and row[0])


def fold(conn: psycopg.Connection[Any]) -> tuple[float, int]:
    """Seconds and delta rows of one fold."""
    with harness.Stopwatch() as t:
        row = conn.execute(queries.get("fold_pair_deltas")).fetchone()
    return t.seconds, int(row[0]) if row else 0


def timed_writes(conn: psycopg.Connection[Any], batches: list[list[dict[str, str]]]) -> list[float]:
    """Seconds of each recsys.ingest_events call (one transaction each)."""
    out = []
    for events in batches:
        with harness.Stopwatch() as t:
            conn.execute(queries.get("ingest_events"), seed.ingest_params(events))
        out.append(t.seconds)
    return out


def phase(
    conn: psycopg.Connection[Any], name: str, batches: list[list[dict[str, str]]], folding: bool
) -> dict[str, Any]:
    writes = timed_writes(conn, batches)
    folded_s, rows = fold(conn) if folding else (0.0, 0)
    events = sum(len(b) for b in batches)
    return {
        "phase": name,
        "events": events,
        "write_s": sum(writes),
        "fold_s": folded_s,
        "delta_rows": rows,
        "events_per_s_writes": events / sum(writes),
        "events_per_s_sustained": events / (sum(writes) + folded_s),
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
            folding = has_fold(conn)
            if folding:
                fold(conn)
            results = [
                phase(
                    conn,
                    f"batches of {args.batch}",
                    [picker.events(args.batch) for _ in range(args.batches)],
                    folding,
                ),
                phase(
                    conn, "single events", [picker.events(1) for _ in range(args.singles)], folding
                ),
            ]
        return {
            "delta_log": folding,
            "seeded": loaded.events,
            "seed_s": loaded.seconds,
            "phases": results,
        }
    finally:
        harness.drop_database(server_url, DB)


def report(r: dict[str, Any]) -> None:
    rows = [
        [
            p["phase"],
            p["events"],
            harness.fmt(p["write_s"]),
            harness.fmt(p["fold_s"]),
            p["delta_rows"],
            round(p["events_per_s_writes"]),
            round(p["events_per_s_sustained"]),
            harness.fmt(p["p50_ms"]),
            harness.fmt(p["p99_ms"]),
        ]
        for p in r["phases"]
    ]
    mode = "pair-delta log" if r["delta_log"] else "pair upserts in the trigger"
    harness.print_table(
        f"write path ({mode}); seeded {r['seeded']} events in {r['seed_s']:.1f} s",
        [
            "phase",
            "events",
            "writes s",
            "fold s",
            "delta rows",
            "events/s writes",
            "events/s sustained",
            "p50 ms",
            "p99 ms",
        ],
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
