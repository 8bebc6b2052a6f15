"""What metrics and the request log cost GET /recommend, with MovieLens 100K loaded.

Three `recsys serve` processes on one database take GET /recommend in
interleaved rounds, the same users in the same order at the same concurrency:
`on` (REC_METRICS=true, the default text log), `off` (REC_METRICS=false, text
log) and `quiet` (REC_METRICS=false, REC_LOG_FORMAT=off). Each round runs the
modes in order, the next round in reverse (on, off, quiet, quiet, off, on, ...),
so linear drift in the neighbours' load falls on all alike. Requests/s on over
off is the cost of metrics (goal >= 0.95); off over quiet the cost of the log
line. Afterwards the `on` server is scraped (time and size of a scrape, the
database gauges' read) and the scrape is kept (--scrape PATH). First, without
a server, what the per-request work costs in µs, loop-timed (robust to a busy
machine, unlike requests/s): the instruments a request touches, in one process
and in multiprocess mode (in a child process with PROMETHEUS_MULTIPROC_DIR),
and one access-log line as text and as JSON, written to /dev/null.

    python -m benchmarks.metrics_cost [--rounds 4] [--seconds 6] [--warmup 1]
        [--concurrency 16] [--cases popular,behavior_based] [--workers 1]
        [--scrape PATH] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import psycopg

from app.db import queries
from benchmarks import client, harness, recommend_latency
from benchmarks.exposure_cost import one_round, requests

DB = "bench_metrics_cost"
GOAL = 0.95  # requests/s with metrics on over off
MODES = {
    "on": {"REC_METRICS": "true", "REC_LOG_FORMAT": "text"},
    "off": {"REC_METRICS": "false", "REC_LOG_FORMAT": "text"},
    "quiet": {"REC_METRICS": "false", "REC_LOG_FORMAT": "off"},
}
# The pairs reported: (numerator, denominator, what their ratio measures).
RATIOS = (("on", "off", "metrics"), ("off", "quiet", "request log"))


LOOPS = 50_000


def instrument_loop(loops: int = LOOPS) -> float:
    """µs for what one GET /recommend records: a request counted, its latency
    observed, its list counted (app/api/telemetry.py, app/api/deps.py)."""
    from app.metrics.instruments import Metrics

    m = Metrics()
    started = time.perf_counter()
    for _ in range(loops):
        m.request_done("/recommend", "GET", 200, 0.004)
        m.lists.labels("popular", "recommend").inc()
    return (time.perf_counter() - started) / loops * 1e6


def multiprocess_loop() -> float:
    """instrument_loop in a child process in multiprocess mode (the mode is
    chosen when prometheus_client is imported)."""
    with tempfile.TemporaryDirectory(prefix="recsys-prom-") as folder:
        code = "from benchmarks.metrics_cost import instrument_loop; print(instrument_loop())"
        out = subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": folder},
            check=True,
            capture_output=True,
            text=True,
        )
    return float(out.stdout.strip().splitlines()[-1])


def log_line_us(log_format: str, loops: int = LOOPS // 5) -> float:
    """µs for one access-log line, formatted and written to /dev/null."""
    from app import logs

    logs.configure(log_format)
    access = logging.getLogger(logs.ACCESS)
    with open(os.devnull, "w") as sink:
        for handler in access.handlers:
            handler.setStream(sink)  # type: ignore[attr-defined]
        extra = {
            "request_id": "0" * 32,
            "method": "GET",
            "path": "/recommend",
            "route": "/recommend",
            "status": 200,
            "duration_ms": 4.2,
            "remote": "127.0.0.1",
        }
        started = time.perf_counter()
        for _ in range(loops):
            access.info("%s %s %d %.2fms request_id=%s", "GET", "/recommend?user_id=1",
                        200, 4.2, extra["request_id"], extra=extra)  # fmt: skip
        took = (time.perf_counter() - started) / loops * 1e6
    logs.configure("off")
    return took


def per_request_costs() -> dict[str, float]:
    return {
        "instruments_us": statistics.median(instrument_loop() for _ in range(3)),
        "instruments_multiprocess_us": statistics.median(multiprocess_loop() for _ in range(3)),
        "log_text_us": log_line_us("text"),
        "log_json_us": log_line_us("json"),
    }


def order(rounds: int) -> list[str]:
    """Each round every mode once, alternate rounds reversed."""
    modes = list(MODES)
    return [m for r in range(rounds) for m in (modes if r % 2 == 0 else modes[::-1])]


def http_rounds(
    bases: dict[str, str], case: str, users: list[str], args: argparse.Namespace
) -> list[dict[str, Any]]:
    reqs = requests(case, users)
    rounds = []
    for n, mode in enumerate(order(args.rounds)):
        sample: client.Sample = asyncio.run(one_round(bases[mode], reqs, args))
        if sample.errors:
            raise RuntimeError(f"{sample.errors} failed requests, the first: {sample.first_error}")
        rps = len(sample.latencies_ms) / sample.seconds
        rounds.append(
            {"round": n // len(MODES), "mode": mode, "rps": rps, "latencies": sample.latencies_ms}
        )
        print(f"  {case} {mode}: {rps:,.1f} requests/s", flush=True)
    return rounds


def compare(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    by_mode = {m: [r for r in rounds if r["mode"] == m] for m in MODES}
    out: dict[str, Any] = {}
    for mode, mine in by_mode.items():
        latencies = [ms for r in mine for ms in r["latencies"]]
        out[mode] = {
            "rps": statistics.mean(r["rps"] for r in mine),
            "rps_by_round": [r["rps"] for r in mine],
            **harness.summary(latencies),
        }
    for a, b, _ in RATIOS:
        pairs = [x["rps"] / y["rps"] for x, y in zip(by_mode[a], by_mode[b], strict=True)]
        out[f"{a}/{b}"] = {"median": statistics.median(pairs), "by_round": pairs}
    return out


def scrape(base: str) -> dict[str, Any]:
    """Two scrapes: the first reads the database gauges, the second hits their cache."""
    took = []
    for _ in range(2):
        started = time.perf_counter()
        with urllib.request.urlopen(base + "/metrics", timeout=30) as response:
            text = response.read().decode()
        took.append((time.perf_counter() - started) * 1000)
    database = [
        float(line.split()[-1])
        for line in text.splitlines()
        if line.startswith("recsys_metrics_database_seconds ")
    ]
    return {
        "cold_ms": took[0],
        "cached_ms": took[1],
        "bytes": len(text),
        "series": sum(1 for line in text.splitlines() if line and not line.startswith("#")),
        "database_ms": database[0] * 1000 if database else None,
        "text": text,
    }


def measure(url: str, args: argparse.Namespace, users: list[str]) -> dict[str, Any]:
    results: dict[str, Any] = {"http": {}, "per_request": per_request_costs()}
    print(f"  per request: {json.dumps(results['per_request'])}", flush=True)
    with (
        harness.served_app(url, args.workers, env=MODES["on"]) as on,
        harness.served_app(url, args.workers, env=MODES["off"]) as off,
        harness.served_app(url, args.workers, env=MODES["quiet"]) as quiet,
    ):
        bases = {"on": on, "off": off, "quiet": quiet}
        for case in args.cases:
            results["http"][case] = compare(http_rounds(bases, case, users, args))
        results["scrape"] = scrape(on)
    return results


def report(results: dict[str, Any], args: argparse.Namespace) -> None:
    rows = []
    for case, r in results["http"].items():
        for mode in MODES:
            m = r[mode]
            rows.append([case, mode, m["rps"], m["p50"], m["p99"]])
        for a, b, what in RATIOS:
            ratio = r[f"{a}/{b}"]
            rows.append(
                [
                    case,
                    f"{a}/{b} ({what})",
                    ratio["median"],
                    min(ratio["by_round"]),
                    max(ratio["by_round"]),
                ]
            )
    harness.print_table(
        f"GET /recommend, {args.concurrency} clients, {args.workers} worker(s) per server,"
        f" {args.rounds} rounds x {args.seconds}s per mode; ratio rows: median, min, max"
        f" of the per-round ratios (goal on/off >= {GOAL})",
        ["case", "mode", "requests/s | ratio", "p50 ms | min", "p99 ms | max"],
        rows,
    )
    c = results["per_request"]
    harness.print_table(
        "per-request work in µs (loop-timed, no server)",
        ["instruments", "instruments, multiprocess", "log line, text", "log line, json"],
        [
            [
                c["instruments_us"],
                c["instruments_multiprocess_us"],
                c["log_text_us"],
                c["log_json_us"],
            ]
        ],
    )
    s = results["scrape"]
    harness.print_table(
        "one scrape of the `on` server after the load",
        ["cold ms", "cached ms", "database gauges ms", "series", "bytes"],
        [[s["cold_ms"], s["cached_ms"], s["database_ms"], s["series"], s["bytes"]]],
    )


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = harness.parser(__doc__.splitlines()[0] if __doc__ else "metrics_cost")
    p.add_argument("--rounds", type=int, default=4, help="rounds, each mode once per round")
    p.add_argument("--seconds", type=float, default=6.0, help="measured seconds per round")
    p.add_argument("--warmup", type=float, default=1.0, help="uncounted seconds per round")
    p.add_argument("--concurrency", type=int, default=16, help="closed-loop clients")
    p.add_argument("--cases", type=lambda s: s.split(","), default=["popular", "behavior_based"])
    p.add_argument("--workers", type=int, default=1, help="recsys serve --workers, per server")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--pair-window", type=int, default=200, help="recsys.settings.pair_window")
    p.add_argument("--scrape", type=Path, metavar="PATH", help="write the scrape's text here")
    p.set_defaults(analyze=True)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    with harness.postgres() as server_url:
        settings = harness.banner(server_url)
        url = recommend_latency.load(server_url, args, DB)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(queries.get("refresh_neighbor_lists"), {"everything": True})
        users = recommend_latency.keys(url, None, args.seed)["users"]
        random.Random(args.seed).shuffle(users)
        results = measure(url, args, users)
        harness.drop_database(server_url, DB)
    report(results, args)
    if args.scrape:
        args.scrape.write_text(results["scrape"]["text"])
    for r in results["http"].values():
        for mode in MODES:
            r[mode].pop("latencies", None)
    payload = {
        "benchmark": "metrics_cost",
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
