"""Reads from a streaming replica (REC_REPLICA_URLS), measured: how long a
replica takes to replay a commit (the wait a read-your-writes read pays), and
POST /event and GET /recommend served with the replica against the primary
alone, interleaved.

A dedicated embedded primary with the bench's small synthetic shop, a replica
made with pg_basebackup (benchmarks.standby), then two `recsys serve`s on the
same primary, one with REC_REPLICA_URLS set. The machine has two cores: the
replica competes with the primary for them, so this measures the mechanism's
cost, not the capacity a replica on its own host adds.

    python -m benchmarks.replica_reads [--rounds 2] [--seconds 6] [--json PATH]
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

from app.db import migrate, queries
from benchmarks import client, harness, seed, standby, traffic, workload


def replay_delays(primary: str, replica: str, n: int) -> dict[str, float]:
    """ms from an event's commit on the primary to its replay on the replica."""
    delays = []
    with (
        psycopg.connect(primary, autocommit=True) as p,
        psycopg.connect(replica, autocommit=True) as r,
    ):
        for i in range(n):
            p.execute(
                "select recsys.ingest_events(array[%s], array['item-1'], array['view'])",
                (f"probe-{i}",),
            )
            lsn = p.execute(queries.get("wal_lsn")).fetchone()
            began = time.perf_counter()
            while not r.execute(
                queries.get("replayed"), {"lsn": lsn[0] if lsn else None}
            ).fetchone()[0]:  # type: ignore[index]
                time.sleep(0.0002)
            r.rollback()
            delays.append((time.perf_counter() - began) * 1000)
    return {"p50": harness.percentile(delays, 50), "p99": harness.percentile(delays, 99)}


def replayed(conn: psycopg.Connection[Any], lsn: dict[str, Any]) -> bool:
    row = conn.execute(queries.get("replayed"), lsn).fetchone()
    return bool(row and row[0])


def main(argv: list[str] | None = None) -> None:
    p = harness.parser(__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--seconds", type=float, default=6.0)
    p.add_argument("--warmup", type=float, default=1.5)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--probes", type=int, default=300)
    s = p.parse_args(argv)
    before = harness.load_average()
    shop = workload.generate(workload.Spec(users=5_000, items=500, events=50_000, seed=5))
    picker = traffic.Picker(shop, 5)
    phases = {
        "event": traffic.single_events(picker),
        "behavior_based": traffic.reads(traffic.case("behavior_based"), picker),
    }
    root = Path(tempfile.mkdtemp(prefix="recsys-replica-bench-"))
    results: dict[str, Any] = {"rounds": []}
    primary = standby.Primary(root)
    try:
        migrate.upgrade(primary.url)
        seed.load(primary.url, shop, progress=False)
        replica = standby.Replica(primary, root)
        try:
            results["replay_ms"] = replay_delays(primary.url, replica.url, s.probes)
            print(f"replay after commit: {results['replay_ms']}", flush=True)
            env = {"REC_REPLICA_URLS": replica.url}
            with (
                harness.served_app(primary.url, s.workers) as alone,
                harness.served_app(primary.url, s.workers, env=env) as replicated,
            ):
                for r in range(s.rounds):
                    row: dict[str, Any] = {}
                    for name, requests in phases.items():
                        for label, base in (("primary", alone), ("replica", replicated)):
                            got = asyncio.run(client.rate(base, requests, s))
                            row[f"{name} {label}"] = got
                            print(f"round {r + 1} {name} {label}: {got}", flush=True)
                    results["rounds"].append(row)
        finally:
            replica.stop()
    finally:
        primary.cleanup()
        shutil.rmtree(root, ignore_errors=True)
    rows = [
        [
            key,
            harness.median([r[key]["per_s"] for r in results["rounds"]]),
            harness.median([r[key]["p99"] for r in results["rounds"]]),
            sum(r[key]["errors"] for r in results["rounds"]),
        ]
        for key in results["rounds"][0]
    ]
    harness.print_table("medians", ["phase", "per s", "p99 ms", "errors"], rows)
    results |= {"uptime_before": before, "uptime_after": harness.load_average()}
    results |= {"machine": harness.machine(), "options": vars(s)}
    harness.write_json(s.json, results)


if __name__ == "__main__":
    main()
