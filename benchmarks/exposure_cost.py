"""The exposure ledger's cost on the hot path, with MovieLens 100K loaded.

Two `recsys serve` processes on one database, the ledger on (REC_EXPOSURES=true,
one recsys.exposures row per list) and off (REC_EXPOSURES=false), take GET
/recommend in interleaved rounds, ABBA (on, off, off, on, on, off, ...: linear
drift in the neighbours' load falls on both alike), the same users in the same
order, at the same concurrency, for each case. First, in SQL from one
autocommit connection, per call: the `recommend` statement against `serve`
(what the service runs: recommend, then one insert, committed) and `serve` with
log false (what it runs when the ledger is off), plus `serve` on a session with
synchronous_commit off (the insert without its WAL flush), each user's four
calls in rotating order. Requests/s on over off is the figure (goal >= 0.9).

    python -m benchmarks.exposure_cost [--rounds 5] [--seconds 6] [--warmup 1]
        [--concurrency 16] [--cases behavior_based,popular] [--samples 300]
        [--workers 1] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import psycopg

from app import recommenders
from app.db import queries
from app.recommenders.base import Exposure, Query
from benchmarks import client, harness, recommend_latency, traffic

DB = "bench_exposure_cost"
K = 10
GOAL = 0.9  # requests/s with the ledger on over off
MODES = {"on": {"REC_EXPOSURES": "true"}, "off": {"REC_EXPOSURES": "false"}}


@dataclass(frozen=True)
class Statement:
    """One statement timed per call: the named query, whether serve logs (None:
    not serve), and whether its commit waits for the WAL flush."""

    query: str
    log: bool | None
    durable: bool = True


STATEMENTS = {
    "recommend": Statement("recommend", None),
    "serve": Statement("serve", True),
    "serve, log false": Statement("serve", False),
    # Not what the service does: what the insert costs without the flush.
    "serve, synchronous_commit off": Statement("serve", True, durable=False),
}

# The per-list costs reported, as sql_costs names them.
COSTS = (
    "serve_minus_recommend_us",
    "insert_us",
    "insert_without_flush_us",
    "wrapper_us",
    "ratio_p50",
)


# ------------------------------------------------------------------ HTTP


def order(rounds: int) -> list[str]:
    """ABBA: on, off, off, on, on, off, ... `rounds` of each mode."""
    pairs = [("on", "off") if r % 2 == 0 else ("off", "on") for r in range(rounds)]
    return [mode for pair in pairs for mode in pair]


def requests(case: str, users: Sequence[str]) -> list[client.Request]:
    path = traffic.case(case).path
    return [client.Request("GET", path(quote(u, safe=""))) for u in users]


async def one_round(
    base: str, reqs: list[client.Request], args: argparse.Namespace
) -> client.Sample:
    async with client.session(base, args.concurrency) as http:
        return await client.closed_loop(
            http, reqs, args.concurrency, seconds=args.seconds, warmup=args.warmup
        )


def exposures(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(queries.get("bench_exposures")).fetchone()
    assert row is not None
    return int(row[0])


def http_rounds(
    url: str, bases: dict[str, str], case: str, users: list[str], args: argparse.Namespace
) -> list[dict[str, Any]]:
    """One closed-loop run per round and mode, in ABBA order."""
    reqs = requests(case, users)
    rounds = []
    for n, mode in enumerate(order(args.rounds)):
        before = exposures(url)
        sample = asyncio.run(one_round(bases[mode], reqs, args))
        if sample.errors:
            raise RuntimeError(f"{sample.errors} failed requests, the first: {sample.first_error}")
        rounds.append(
            {
                "round": n // 2,
                "mode": mode,
                "requests": len(sample.latencies_ms),
                "seconds": sample.seconds,
                "rps": len(sample.latencies_ms) / sample.seconds,
                "logged": exposures(url) - before,  # the warm-up's lists included
                "latencies_ms": sample.latencies_ms,
            }
        )
        print(f"  {case} {mode}: {rounds[-1]['rps']:,.1f} requests/s", flush=True)
    return rounds


def pooled(rounds: list[dict[str, Any]], mode: str) -> dict[str, Any]:
    mine = [r for r in rounds if r["mode"] == mode]
    latencies = [ms for r in mine for ms in r["latencies_ms"]]
    n, seconds = sum(r["requests"] for r in mine), sum(r["seconds"] for r in mine)
    return {
        "rounds": len(mine),
        "requests": n,
        "seconds": seconds,
        "rps": n / seconds,
        "rps_by_round": [r["rps"] for r in mine],
        "logged": sum(r["logged"] for r in mine),
        **harness.summary(latencies),
    }


def compare(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Pooled figures per mode, their ratio and the ratio of each round's pair."""
    on, off = pooled(rounds, "on"), pooled(rounds, "off")
    pairs = [
        a["rps"] / b["rps"]
        for a, b in zip(
            [r for r in rounds if r["mode"] == "on"],
            [r for r in rounds if r["mode"] == "off"],
            strict=True,
        )
    ]
    return {
        "on": on,
        "off": off,
        "ratio": on["rps"] / off["rps"],
        "ratio_by_round": pairs,
        "p50_delta_ms": on["p50"] - off["p50"],
        "p99_delta_ms": on["p99"] - off["p99"],
        "rounds": [{k: v for k, v in r.items() if k != "latencies_ms"} for r in rounds],
    }


# ------------------------------------------------------------------ SQL


def statement(name: str, case: str, user: str) -> tuple[str, dict[str, Any]]:
    """The named query and parameters of one call, as app.recommenders sends them."""
    spec = STATEMENTS[name]
    query = Query(user_id=user, k=K)
    params = recommenders.recommend_params(case, query)
    if spec.log is not None:
        exposure = Exposure(surface="recommend", log=spec.log)
        params = recommenders.ranked_params(case, query)
        params |= recommenders.ledger_params(str(uuid.uuid4()), case, query, exposure)
    return spec.query, params


def sql_calls(url: str, case: str, users: list[str]) -> dict[str, list[float]]:
    """µs per call of each statement, autocommit (each call commits, as a request
    does), prepared, rows fetched; each user's calls in rotating order."""
    names = list(STATEMENTS)
    times: dict[str, list[float]] = {name: [] for name in names}
    warm = users[: recommend_latency.WARMUP]
    with (
        psycopg.connect(url, autocommit=True) as durable,
        psycopg.connect(url, autocommit=True, options="-c synchronous_commit=off") as quick,
    ):
        for n, user in enumerate(warm + users):
            for name in names[n % len(names) :] + names[: n % len(names)]:
                conn = durable if STATEMENTS[name].durable else quick
                query_name, params = statement(name, case, user)
                with harness.Stopwatch() as t:
                    rows = conn.execute(queries.get(query_name), params, prepare=True).fetchall()
                if len(rows) != K:
                    raise RuntimeError(f"{name} {case}({user!r}): {len(rows)} rows, not {K}")
                if n >= len(warm):
                    times[name].append(t.seconds * 1e6)
    return times


def sql_costs(times: dict[str, list[float]]) -> dict[str, Any]:
    """Each statement's summary, and the per-list costs as medians of per-user differences."""

    def delta(a: str, b: str) -> float:
        return statistics.median(x - y for x, y in zip(times[a], times[b], strict=True))

    return {
        "us": {name: harness.summary(values) for name, values in times.items()},
        "serve_minus_recommend_us": delta("serve", "recommend"),
        "insert_us": delta("serve", "serve, log false"),
        "wrapper_us": delta("serve, log false", "recommend"),
        "insert_without_flush_us": delta("serve, synchronous_commit off", "serve, log false"),
        "ratio_p50": harness.median(times["recommend"]) / harness.median(times["serve"]),
    }


# ------------------------------------------------------------------ run


def measure(url: str, args: argparse.Namespace, users: list[str]) -> dict[str, Any]:
    sql_users = random.Random(args.seed).sample(users, min(args.samples, len(users)))
    results: dict[str, Any] = {"http": {}, "sql": {}}
    for case in args.cases:
        results["sql"][case] = sql_costs(sql_calls(url, case, sql_users))
        print(f"  {case}: sql done", flush=True)
    with (
        harness.served_app(url, args.workers, env=MODES["on"]) as on,
        harness.served_app(url, args.workers, env=MODES["off"]) as off,
    ):
        for case in args.cases:
            results["http"][case] = compare(
                http_rounds(url, {"on": on, "off": off}, case, users, args)
            )
    return results


def report(results: dict[str, Any], args: argparse.Namespace) -> None:
    rows = []
    for case, r in results["http"].items():
        for mode in ("on", "off"):
            m = r[mode]
            rows.append(
                [case, mode, m["rounds"], m["requests"], m["rps"], m["p50"], m["p99"], m["logged"]]
            )
        rows.append(
            [case, "on / off", "", "", r["ratio"], r["p50_delta_ms"], r["p99_delta_ms"], ""]
        )
    harness.print_table(
        f"GET /recommend, {args.concurrency} clients, {args.workers} worker(s) per server,"
        f" {args.rounds} rounds x {args.seconds}s per mode (ABBA); goal on/off >= {GOAL}",
        ["case", "ledger", "rounds", "requests", "requests/s", "p50 ms", "p99 ms", "lists logged"],
        rows,
    )
    harness.print_table(
        "per-round ratios on/off",
        ["case", "min", "median", "max"],
        [
            [case, min(x), statistics.median(x), max(x)]
            for case, r in results["http"].items()
            for x in [r["ratio_by_round"]]
        ],
    )
    rows = []
    for case, s in results["sql"].items():
        for name, u in s["us"].items():
            rows.append([case, name, u["n"], u["p50"], u["p95"], u["p99"]])
    harness.print_table(
        "SQL per call in µs (one connection, autocommit, prepared)",
        ["case", "statement", "n", "p50", "p95", "p99"],
        rows,
    )
    harness.print_table(
        "per-list cost in µs (median of per-user differences)",
        ["case", "serve - recommend", "insert", "insert, no flush", "wrapper", "recommend/serve"],
        [[case, *(costs[key] for key in COSTS)] for case, costs in results["sql"].items()],
    )


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = harness.parser(__doc__.splitlines()[0] if __doc__ else "exposure_cost")
    p.add_argument("--rounds", type=int, default=5, help="rounds per mode (ABBA), at least 3")
    p.add_argument("--seconds", type=float, default=6.0, help="measured seconds per round")
    p.add_argument("--warmup", type=float, default=1.0, help="uncounted seconds per round")
    p.add_argument("--concurrency", type=int, default=16, help="closed-loop clients")
    p.add_argument("--cases", type=lambda s: s.split(","), default=["behavior_based", "popular"])
    p.add_argument("--samples", type=int, default=300, help="users timed per SQL statement")
    p.add_argument("--workers", type=int, default=1, help="recsys serve --workers, per server")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--pair-window", type=int, default=200, help="recsys.settings.pair_window")
    p.set_defaults(analyze=True)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    with harness.postgres() as server_url:
        settings = harness.banner(server_url)
        url = recommend_latency.load(server_url, args, DB)
        with psycopg.connect(url, autocommit=True) as conn:
            # What a served database has within REC_NEIGHBOR_REFRESH of a load.
            conn.execute(queries.get("refresh_neighbor_lists"), {"everything": True})
        users = recommend_latency.keys(url, None, args.seed)["users"]
        random.Random(args.seed).shuffle(users)
        results = measure(url, args, users)
        harness.drop_database(server_url, DB)
    report(results, args)
    payload = {
        "benchmark": "exposure_cost",
        "machine": harness.machine(),
        "postgres": settings,
        "args": {k: str(v) for k, v in vars(args).items()},
        "goal": f"requests/s on / off >= {GOAL}",
        **results,
    }
    harness.write_json(args.json, payload)
    return payload


if __name__ == "__main__":
    main()
