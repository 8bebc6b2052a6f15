"""Would a pair-delta log pay? The trigger's pair upserts against the same
trigger appending its pairs to an index-less heap, folded into item_pairs by
one sorted upsert every few batches (the fold's whole job), on the same shop
and batches as benchmarks.write_path. Both arms must end with the same
item_pairs (count, sum and hash: sql/queries.sql's bench_maintained_pairs),
or the run fails.

The log arm is built in the benchmark's throwaway database only: main keeps
the upserts (docs/performance.md says why).

    python -m benchmarks.pair_log [--users 20000] [--items 10000]
        [--events 300000] [--batch 1000] [--batches 20] [--every 2,20]
        [--rounds 1] [--json PATH]
"""

from __future__ import annotations

import argparse
import re
from typing import Any

import psycopg

from app.db import queries
from benchmarks import harness, seed, workload
from benchmarks.traffic import Picker

SEED_DB = "bench_pair_log_seed"
# The trigger's pair statement, up to its end: the main statement of the
# big WITH, so the append takes its place and reads the same `pairs` CTE.
UPSERT = re.compile(r"insert into recsys\.item_pairs as p \(item_a, item_b, users\)[^;]*;")
APPEND = """insert into recsys.item_pair_deltas (item_a, item_b, users)
    select item_a, item_b, users from pairs;"""
DELTAS = "create table recsys.item_pair_deltas (item_a bigint, item_b bigint, users bigint)"
FOLD = """
insert into recsys.item_pairs as p (item_a, item_b, users)
select item_a, item_b, sum(users) from recsys.item_pair_deltas group by 1, 2 order by 1, 2
    on conflict (item_a, item_b) do update set users = p.users + excluded.users
"""


def appending_trigger(conn: psycopg.Connection[Any]) -> str:
    """The installed trigger function, its pair upsert turned into an append."""
    source = conn.execute(
        "select pg_get_functiondef('recsys.on_events_inserted'::regproc)"
    ).fetchone()
    assert source is not None
    appending, found = UPSERT.subn(APPEND, str(source[0]))
    assert found == 1, "the trigger's pair upsert moved: update benchmarks.pair_log"
    return appending


def fold(conn: psycopg.Connection[Any]) -> float:
    with harness.Stopwatch() as t, conn.transaction():
        conn.execute(FOLD)
        conn.execute("truncate recsys.item_pair_deltas")
    return t.seconds


def arm(
    server_url: str, every: int, trigger: str, batches: list[list[dict[str, str]]]
) -> dict[str, Any]:
    """One arm on a fresh copy of the seeded shop; every = 0: the upserts."""
    db = f"bench_pair_log_{every}"
    url = harness.create_database(server_url, db, template=SEED_DB)
    writes, folds = [], 0.0
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            if every:
                conn.execute(DELTAS)
                conn.execute(trigger)
            for n, batch in enumerate(batches, 1):
                with harness.Stopwatch() as t:
                    conn.execute(queries.get("ingest_events"), seed.ingest_params(batch))
                writes.append(t.seconds)
                if every and (n % every == 0 or n == len(batches)):
                    folds += fold(conn)
            digest = conn.execute(queries.get("bench_maintained_pairs")).fetchone()
    finally:
        harness.drop_database(server_url, db)
    events = sum(len(b) for b in batches)
    return {
        "arm": f"appends, a fold every {every} batches" if every else "upserts (main)",
        "every": every,
        "write_s": sum(writes),
        "fold_s": folds,
        "writes_events_per_s": events / sum(writes),
        "events_per_s": events / (sum(writes) + folds),
        "batch_p50_ms": harness.percentile(writes, 50) * 1000,
        "digest": list(digest) if digest else None,
    }


def run(server_url: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    w = workload.generate(workload.Spec(users=args.users, items=args.items, events=args.events))
    url = harness.fresh_database(server_url, SEED_DB)
    try:
        seed.load(url, w)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("vacuum analyze")
            trigger = appending_trigger(conn)
        picker = Picker(w, seed=7)
        batches = [picker.events(args.batch) for _ in range(args.batches)]
        results = [
            arm(server_url, every, trigger, batches)
            for _ in range(args.rounds)
            for every in [0, *args.every]
        ]
    finally:
        harness.drop_database(server_url, SEED_DB)
    if len({tuple(r["digest"]) for r in results}) != 1:
        raise SystemExit("the arms ended with different item_pairs: the log is not exact")
    return results


def report(results: list[dict[str, Any]]) -> None:
    harness.print_table(
        "pair upserts vs a pair-delta log (same item_pairs at the end)",
        ["arm", "writes s", "folds s", "events/s writes", "events/s writes+folds", "batch p50 ms"],
        [
            [
                r["arm"],
                harness.fmt(r["write_s"]),
                harness.fmt(r["fold_s"]),
                round(r["writes_events_per_s"]),
                round(r["events_per_s"]),
                harness.fmt(r["batch_p50_ms"]),
            ]
            for r in results
        ],
    )


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = harness.parser(__doc__.splitlines()[0] if __doc__ else "pair_log")
    p.add_argument("--users", type=int, default=20_000)
    p.add_argument("--items", type=int, default=10_000)
    p.add_argument("--events", type=int, default=300_000)
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--batches", type=int, default=20)
    p.add_argument(
        "--every",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[2, 20],
        help="fold intervals in batches, comma-separated",
    )
    p.add_argument("--rounds", type=int, default=1)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    with harness.postgres() as server_url:
        settings = harness.banner(server_url)
        results = run(server_url, args)
    report(results)
    payload = {
        "machine": harness.machine(),
        "postgres": settings,
        "args": vars(args) | {"json": None},
        "result": results,
    }
    harness.write_json(args.json, payload)
    return payload


if __name__ == "__main__":
    main()
