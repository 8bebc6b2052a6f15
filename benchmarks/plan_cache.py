"""behavior_based under a custom plan per call (its mode before migration
0010_plans) and under one generic plan per session (now), in one run on one
shop: the SQL function from one connection; what GET /recommend runs
(recommenders.serve, as benchmarks.web_share calls it) from 16 connections;
and GET /recommend?case=behavior_based over HTTP at 16 clients. The mode is
switched with ALTER FUNCTION between rounds, so the server, its pools and the
data are the same for both; rounds alternate, after a VACUUM ANALYZE of the
fresh shop (autovacuum would land in the first rounds).

    python -m benchmarks.plan_cache [--users 20000] [--items 2000] [--events 200000]
        [--rounds 3] [--seconds 8] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import psycopg

from benchmarks import client, harness, seed, traffic, web_share, workload

DB = "bench_plan_cache"
FUNCTION = "recsys.behavior_based(text, integer, text[], text, boolean, text)"
MODES = ("force_custom_plan", "force_generic_plan")
# What GET /recommend?case=behavior_based runs, called straight from psycopg.
SERVE = web_share.direct_call("behavior_based")


def set_mode(url: str, mode: str) -> None:
    # The mode is a constant of ours, never input: an identifier list to choose from.
    assert mode in MODES
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"alter function {FUNCTION} set plan_cache_mode = {mode}")


def sql_ms(url: str, users: list[str]) -> float:
    """Mean ms of one behavior_based list, one connection, one user after another."""
    with psycopg.connect(url, autocommit=True) as conn:
        for u in users[:20]:  # warm-up: the session's plans
            conn.execute("select * from recsys.behavior_based(%s, 10)", [u]).fetchall()
        start = time.perf_counter()
        for u in users:
            conn.execute("select * from recsys.behavior_based(%s, 10)", [u]).fetchall()
        return (time.perf_counter() - start) / len(users) * 1000


def round_of(url: str, base: str, mode: str, picker: Any, s: argparse.Namespace) -> dict[str, Any]:
    set_mode(url, mode)
    users = picker.user_ids(300)
    requests = traffic.reads(traffic.case("behavior_based"), picker, 2000)
    http = asyncio.run(client.rate(base, requests, s))
    return {
        "mode": mode,
        "sql_ms": sql_ms(url, users),
        "serve_per_s": asyncio.run(
            web_share.sql_loop(url, SERVE, users, s.concurrency, s.seconds, s.warmup)
        )["per_s"],
        "http_per_s": http["per_s"],
        "http_p99_ms": http["p99"],
        "http_errors": http["errors"],
    }


def run(server_url: str, s: argparse.Namespace) -> dict[str, Any]:
    w = workload.generate(workload.Spec(users=s.users, items=s.items, events=s.events))
    url = harness.fresh_database(server_url, DB)
    try:
        seed.load(url, w)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("vacuum analyze")
        picker = traffic.Picker(w, seed=3)
        rounds = []
        with harness.served_app(url, workers=2) as base:
            for _ in range(s.rounds):
                rounds += [round_of(url, base, mode, picker, s) for mode in MODES]
        return {"rounds": rounds}
    finally:
        harness.drop_database(server_url, DB)


def report(r: dict[str, Any]) -> None:
    keys = ("sql_ms", "serve_per_s", "http_per_s", "http_p99_ms")
    med = {
        m: {k: harness.median([x[k] for x in r["rounds"] if x["mode"] == m]) for k in keys}
        for m in MODES
    }
    r["medians"] = med
    custom, generic = med[MODES[0]], med[MODES[1]]
    rows = [[m, *(harness.fmt(med[m][k]) for k in keys)] for m in MODES]
    rows.append(["generic / custom", *(harness.fmt(generic[k] / custom[k]) for k in keys)])
    harness.print_table(
        "behavior_based: custom plan per call vs one generic plan (medians over rounds)",
        ["mode", "SQL ms (1 conn)", "serve/s (16 conns)", "HTTP req/s (16)", "HTTP p99 ms"],
        rows,
    )


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = harness.parser(__doc__.splitlines()[0] if __doc__ else "plan_cache")
    p.add_argument("--users", type=int, default=20_000)
    p.add_argument("--items", type=int, default=2_000)
    p.add_argument("--events", type=int, default=200_000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=8)
    p.add_argument("--warmup", type=float, default=2)
    p.add_argument("--concurrency", type=int, default=16)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    s = parse(argv)
    with harness.postgres() as server_url:
        settings = harness.banner(server_url)
        result = run(server_url, s)
    report(result)
    payload = {
        "machine": harness.machine(),
        "postgres": settings,
        "args": {k: str(v) for k, v in vars(s).items()},
        "result": result,
    }
    harness.write_json(s.json, payload)
    return payload


if __name__ == "__main__":
    main()
