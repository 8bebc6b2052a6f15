"""GET /health and the read cases with the fast path (app/api/fastpath.py) and
without it (REC_FAST_PATH=false: through Quart), in one run on one shop: two
`recsys serve` processes on the same database, measured in alternating order
each round, and the handler's own calls from 16 psycopg connections (the web
layer's share, as benchmarks.web_share measures it).

    python -m benchmarks.fast_path [--users 20000] [--items 2000] [--events 200000]
        [--rounds 3] [--seconds 6] [--cases health,popular,...] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
from contextlib import ExitStack
from typing import Any

import psycopg

from benchmarks import harness, seed, traffic, web_share, workload

DB = "bench_fast_path"
ARMS = {"fast": {"REC_FAST_PATH": "true"}, "quart": {"REC_FAST_PATH": "false"}}
# /items/<id>/similar has no fast path: it shows what Quart's path costs beside them.
CASES = web_share.DEFAULT_CASES


def round_of(
    r: int, bases: dict[str, str], url: str, plans: dict[str, Any], s: argparse.Namespace
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    order = list(ARMS) if r % 2 == 0 else list(reversed(ARMS))
    for name, (requests, keys) in plans.items():
        row = {arm: asyncio.run(web_share.http_loop(bases[arm], requests, s)) for arm in order}
        row["sql"] = asyncio.run(
            web_share.sql_loop(
                url, web_share.direct_call(name), keys, s.concurrency, s.seconds, s.warmup
            )
        )
        out[name] = row
        print(
            f"round {r + 1} {name:>18}: fast {row['fast']['per_s']:6.0f}/s"
            f" p99 {row['fast']['p99']:6.1f} | quart {row['quart']['per_s']:6.0f}/s"
            f" p99 {row['quart']['p99']:6.1f} | direct {row['sql']['per_s']:6.0f}/s",
            flush=True,
        )
    return out


def run(server_url: str, s: argparse.Namespace) -> list[dict[str, Any]]:
    shop = workload.generate(workload.Spec(s.users, s.items, s.events, seed=11))
    picker = traffic.Picker(shop, 11)
    names = [n for n in s.cases.split(",") if n]
    plans = {n: web_share.requests_and_keys(n, picker) for n in names}
    url = harness.fresh_database(server_url, DB)
    try:
        seed.load(url, shop, progress=False)
        seed.train(url, progress=False)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("vacuum analyze")
        with ExitStack() as stack:
            bases = {
                arm: stack.enter_context(harness.served_app(url, s.workers, env=env))
                for arm, env in ARMS.items()
            }
            return [round_of(r, bases, url, plans, s) for r in range(s.rounds)]
    finally:
        harness.drop_database(server_url, DB)


def report(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    med = harness.median
    summary: dict[str, Any] = {}
    rows = []
    for name in rounds[0]:
        runs = [r[name] for r in rounds]
        health = [r["health"] for r in rounds] if "health" in rounds[0] else []
        row = {
            "fast_per_s": med([x["fast"]["per_s"] for x in runs]),
            "quart_per_s": med([x["quart"]["per_s"] for x in runs]),
            "fast_over_quart": med([x["fast"]["per_s"] / x["quart"]["per_s"] for x in runs]),
            "fast_p99_ms": med([x["fast"]["p99"] for x in runs]),
            "quart_p99_ms": med([x["quart"]["p99"] for x in runs]),
            "fast_over_direct": med([x["fast"]["per_s"] / x["sql"]["per_s"] for x in runs]),
            "fast_x_health": (
                med(
                    [
                        x["fast"]["per_s"] / h["fast"]["per_s"]
                        for x, h in zip(runs, health, strict=True)
                    ]
                )
                if health
                else float("nan")
            ),
            "errors": sum(x[a]["errors"] for x in runs for a in ARMS),
        }
        summary[name] = row
        rows.append([name, *(harness.fmt(v) for v in row.values())])
    harness.print_table(
        f"fast path vs Quart, medians of {len(rounds)} rounds (16 clients, 2 workers each)",
        [
            "case",
            "fast/s",
            "quart/s",
            "fast/quart",
            "fast p99",
            "quart p99",
            "fast/direct",
            "x health",
            "err",
        ],
        rows,
    )
    return summary


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = harness.parser(__doc__.splitlines()[0] if __doc__ else "fast_path")
    p.add_argument("--users", type=int, default=20_000)
    p.add_argument("--items", type=int, default=2_000)
    p.add_argument("--events", type=int, default=200_000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=6)
    p.add_argument("--warmup", type=float, default=1.5)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--cases", default=",".join(CASES))
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    s = parse(argv)
    before = harness.load_average()
    with harness.postgres() as server_url:
        settings = harness.banner(server_url)
        rounds = run(server_url, s)
    payload = {
        "summary": report(rounds),
        "rounds": rounds,
        "uptime_before": before,
        "uptime_after": harness.load_average(),
        "machine": harness.machine(),
        "postgres": settings,
        "args": {k: str(v) for k, v in vars(s).items()},
    }
    harness.write_json(s.json, payload)
    return payload


if __name__ == "__main__":
    main()
