"""Bulk import of MovieLens 100K with every count maintained, next to the same
server's set-based yardstick (COPY + one CREATE TABLE AS computing the pairs).

    python -m benchmarks.ingest [--repeat 3] [--windows 0,200] [--path auto|trigger] [--json PATH]

`--path auto` (the default) is what `recsys import events` does: into the empty
database, the bulk path (recsys.bulk_ingest_events); `--path trigger` forces the
trigger, as every import did before it.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from app.db import queries
from app.importing.events import PATHS, import_events
from app.importing.formats import event_format
from benchmarks import harness

# ml-100k, pair_window = 0: every pair of items rated by one user, counted per user.
UNBOUNDED_PAIRS = 983_206
UNBOUNDED_PAIR_USERS = 10_050_406

# The yardstick's SQL is in sql/queries.sql (bench_yardstick_*): COPY into an
# unindexed table, then ONE create table as computing the pair counts.


@dataclass
class Result:
    window: int
    maintained: list[float] = field(default_factory=list)
    yardstick: list[float] = field(default_factory=list)
    yardstick_copy: list[float] = field(default_factory=list)
    yardstick_pairs: list[float] = field(default_factory=list)
    yardstick_index: list[float] = field(default_factory=list)  # informational
    in_ingest_events: list[float] = field(default_factory=list)  # of maintained
    in_trigger: list[float] = field(default_factory=list)  # of in_ingest_events
    in_bulk: list[float] = field(default_factory=list)  # of maintained; ingest_events inside
    bulk: bool = False
    maintained_pairs: tuple[int, int, int] = (0, 0, 0)
    yardstick_result: tuple[int, int, int] = (0, 0, 0)
    events: int = 0

    @property
    def ratio(self) -> float:
        return harness.median(self.maintained) / harness.median(self.yardstick)

    @property
    def ratio_indexed(self) -> float:
        """maintained / (yardstick + building item_pairs' two indexes on its result)."""
        return harness.median(self.maintained) / (
            harness.median(self.yardstick) + harness.median(self.yardstick_index)
        )

    @property
    def pairs_match(self) -> bool:
        return self.maintained_pairs == self.yardstick_result


def checkpoint(server_url: str) -> None:
    """Start every timed run with no dirty buffers of the previous one pending."""
    try:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(queries.get("bench_checkpoint"))
    except psycopg.Error:
        pass  # not a superuser on an external server: measure anyway


def fingerprint(url: str, name: str) -> tuple[int, int, int]:
    with psycopg.connect(url) as conn:
        row = conn.execute(queries.get(name)).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def run_maintained(server_url: str, data: Path, window: int, result: Result, mode: str) -> None:
    url = harness.fresh_database(server_url, "bench_ingest_maintained")
    harness.track_functions(server_url, "bench_ingest_maintained")
    with psycopg.connect(url) as conn:
        conn.execute(
            queries.get("apply_tunables"),
            {"pair_window": window, "page_ttl_minutes": None, "attribution_hours": None},
        )
    checkpoint(server_url)
    with harness.Stopwatch() as t:
        report = import_events(url, data, event_format("movielens-100k"), progress=False, mode=mode)
    result.maintained.append(t.seconds)
    result.events = report.inserted
    result.bulk = report.bulk
    spent = harness.function_seconds(url)
    result.in_ingest_events.append(spent.get("ingest_events", math.nan))
    result.in_trigger.append(spent.get("on_events_inserted", 0.0))
    result.in_bulk.append(spent.get("bulk_ingest_events", 0.0))
    result.maintained_pairs = fingerprint(url, "bench_maintained_pairs")
    harness.drop_database(server_url, "bench_ingest_maintained")


def run_yardstick(server_url: str, data: Path, window: int, result: Result) -> None:
    url = harness.create_database(server_url, "bench_ingest_yardstick")
    checkpoint(server_url)
    with harness.Stopwatch() as total, psycopg.connect(url) as conn:
        with harness.Stopwatch() as copy:
            lined = "bench_yardstick_table" if window == 0 else "bench_yardstick_table_lined"
            conn.execute(queries.get(lined))
            with conn.cursor().copy(queries.get("bench_yardstick_copy")) as out:
                out.write(data.read_bytes())
        with harness.Stopwatch() as pairs:
            if window == 0:
                conn.execute(queries.get("bench_yardstick_pairs"))
            else:
                conn.execute(queries.get("bench_yardstick_pairs_windowed"), {"window": window})
        conn.commit()
    result.yardstick.append(total.seconds)
    result.yardstick_copy.append(copy.seconds)
    result.yardstick_pairs.append(pairs.seconds)
    result.yardstick_result = fingerprint(url, "bench_yardstick_pairs_fingerprint")
    result.yardstick_index.append(index_pairs(url))
    harness.drop_database(server_url, "bench_ingest_yardstick")


def index_pairs(url: str) -> float:
    """Seconds to give the yardstick's pairs the indexes item_pairs has (reported
    beside the yardstick, not part of it): how much of the gap is index upkeep."""
    with harness.Stopwatch() as t, psycopg.connect(url) as conn:
        conn.execute(queries.get("bench_yardstick_indexes"))
        conn.commit()
    return t.seconds


def measure(server_url: str, data: Path, window: int, repeat: int, mode: str) -> Result:
    result = Result(window=window)
    for i in range(repeat):
        run_maintained(server_url, data, window, result, mode)
        run_yardstick(server_url, data, window, result)
        print(
            f"  window {window} run {i + 1}/{repeat}: maintained {result.maintained[-1]:.2f}s,"
            f" yardstick {result.yardstick[-1]:.2f}s",
            flush=True,
        )
    return result


def check(result: Result) -> list[str]:
    """What does not add up; empty when the counts are right."""
    problems = []
    pairs, users, _ = result.maintained_pairs
    if result.window == 0 and (pairs, users) != (UNBOUNDED_PAIRS, UNBOUNDED_PAIR_USERS):
        problems.append(
            f"window 0: item_pairs has {pairs} pairs summing to {users},"
            f" expected {UNBOUNDED_PAIRS} / {UNBOUNDED_PAIR_USERS}"
        )
    if not result.pairs_match:
        problems.append(
            f"window {result.window}: maintained {result.maintained_pairs}"
            f" != yardstick {result.yardstick_result} (count, sum, hash)"
        )
    return problems


def report(results: list[Result], args: argparse.Namespace) -> None:
    med = harness.median
    harness.print_table(
        f"ml-100k import, median of {args.repeat} (seconds); goal maintained/yardstick <= 1.5",
        [
            "pair_window",
            "events",
            "pairs",
            "sum(users)",
            "match",
            "maintained s",
            "events/s",
            "yardstick s",
            "ratio",
        ],
        [
            [
                _window(r),
                r.events,
                r.maintained_pairs[0],
                r.maintained_pairs[1],
                "yes" if r.pairs_match else "NO",
                med(r.maintained),
                r.events / med(r.maintained),
                med(r.yardstick),
                r.ratio,
            ]
            for r in results
        ],
    )
    harness.print_table(
        "where the time goes, median seconds (function times from pg_stat_user_functions)",
        [
            "pair_window",
            "path",
            "maintained",
            "file->staging",
            "events insert",
            "trigger",
            "bulk build",
            "yardstick",
            "COPY",
            "CREATE TABLE pairs",
            "(+ 2 indexes)",
            "ratio vs yardstick + indexes",
        ],
        [
            [
                _window(r),
                "bulk" if r.bulk else "trigger",
                med(r.maintained),
                med(r.maintained) - max(med(r.in_bulk), med(r.in_ingest_events)),
                med(r.in_ingest_events) - med(r.in_trigger),
                med(r.in_trigger),
                med(r.in_bulk) - med(r.in_ingest_events) if r.bulk else 0.0,
                med(r.yardstick),
                med(r.yardstick_copy),
                med(r.yardstick_pairs),
                med(r.yardstick_index),
                r.ratio_indexed,
            ]
            for r in results
        ],
    )


def _window(result: Result) -> str:
    return "0 (unbounded)" if result.window == 0 else str(result.window)


def to_json(
    results: list[Result], args: argparse.Namespace, settings: dict[str, str]
) -> dict[str, Any]:
    return {
        "benchmark": "ingest",
        "machine": harness.machine(),
        "postgres": settings,
        "repeat": args.repeat,
        "results": [
            {
                **asdict(r),
                "maintained_median": harness.median(r.maintained),
                "yardstick_median": harness.median(r.yardstick),
                "ratio": r.ratio,
                "ratio_vs_indexed_yardstick": r.ratio_indexed,
                "pairs_match": r.pairs_match,
            }
            for r in results
        ],
    }


def main(argv: list[str] | None = None) -> None:
    p = harness.parser(__doc__.splitlines()[0] if __doc__ else "ingest")
    p.add_argument("--repeat", type=int, default=3, help="measurements per variant (median)")
    p.add_argument("--windows", default="0,200", help="pair_window values, comma-separated")
    p.add_argument(
        "--path",
        choices=PATHS,
        default="auto",
        help="auto: as recsys import events (bulk into the empty database); trigger: forced",
    )
    args = p.parse_args(argv)
    data = harness.ml100k_file(args.data, "u.data")
    windows = [int(w) for w in args.windows.split(",")]
    with harness.postgres() as server_url:
        settings = harness.banner(server_url)
        results = [measure(server_url, data, w, args.repeat, args.path) for w in windows]
    report(results, args)
    problems = [problem for r in results for problem in check(r)]
    for problem in problems:
        print(f"MISMATCH: {problem}")
    if not problems:
        print(
            "\ncounts verified: maintained item_pairs == yardstick pairs (count, sum, hash)"
            + ("; unbounded = 983 206 pairs / 10 050 406" if 0 in windows else "")
        )
    harness.write_json(args.json, to_json(results, args, settings))
    if problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
