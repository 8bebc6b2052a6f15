"""Put a bench together: the database and the served app (own or given), the
workload loaded, the phases run, the report written."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from app.db import queries
from benchmarks import harness, phases, push, report, seed
from benchmarks.workload import Spec, Workload, generate

Say = Callable[[str], None]


@dataclass(frozen=True)
class Options:
    spec: Spec = field(default_factory=Spec)
    settings: phases.Settings = field(default_factory=phases.Settings)
    url: str | None = None  # a running server; None: serve our own
    database_url: str | None = None  # for --load against --url
    load: bool = False
    train: bool = True
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    pid: int | None = None  # the running server's pid, for its RSS and CPU
    keep: bool = False  # keep the loaded database (for --url runs and EXPLAIN)
    json: Path | None = None
    png: Path | None = None


def bench(options: Options, say: Say = print) -> dict[str, Any]:
    """Run every phase; print the table and goals; return what --json writes."""
    say(
        f"generating {options.spec.events:,} events ({options.spec.users:,} users, "
        f"{options.spec.items:,} items, seed {options.spec.seed})"
    )
    workload = generate(options.spec)
    context: dict[str, Any] = {
        "machine": harness.machine(),
        "uptime_before": harness.load_average(),
    }
    if options.url:
        results = remote(options, workload, context, say)
    else:
        results = local(options, workload, context, say)
    context["uptime_after"] = harness.load_average()
    context["options"] = describe(options)
    out = report.payload(results, context)
    report.print_results(results, f"recsys bench, {options.settings.concurrency} clients")
    report.print_goals(out["goals"])
    harness.write_json(options.json, out)
    if options.png:
        report.png(results, options.png)
    return out


def local(
    options: Options, workload: Workload, context: dict[str, Any], say: Say
) -> list[phases.Result]:
    """A throwaway PostgreSQL (or REC_DATABASE_URL's server), loaded, then served."""
    with harness.postgres() as server_url:
        context["postgres"] = harness.server_settings(server_url)
        name = f"recsys_bench_{os.getpid()}"
        url = harness.fresh_database(server_url, name)
        try:
            context["load"] = prepare(url, workload, options, say)
            push.raise_fd_limit()  # before the server starts: it inherits the limit
            with harness.served_process(url, options.workers) as (base, pid):
                say(f"serving {base} with {options.workers} worker(s)")
                results = measure(base, pid, workload, options, say)
                context["metrics"] = scrape(base, say)
                return results
        finally:
            if options.keep:
                say(f"kept the loaded database: {url}")
            else:
                harness.drop_database(server_url, name)


def remote(
    options: Options, workload: Workload, context: dict[str, Any], say: Say
) -> list[phases.Result]:
    """A server someone else runs; --load seeds its database first."""
    assert options.url is not None
    if options.load:
        if not options.database_url:
            raise ValueError("--load needs --database-url (the served database)")
        context["load"] = prepare(options.database_url, workload, options, say)
    push.raise_fd_limit()
    base = options.url.rstrip("/")
    results = measure(base, options.pid, workload, options, say)
    context["metrics"] = scrape(base, say)
    return results


def prepare(url: str, workload: Workload, options: Options, say: Say) -> dict[str, Any]:
    """Bulk load, then train what the recommenders serve; the seconds each took."""
    loaded = seed.load(url, workload)
    say(f"loaded {loaded.events:,} events in {loaded.seconds:.1f}s ({loaded.events_per_s:,.0f}/s)")
    done: dict[str, Any] = asdict(loaded) | {"database": database_size(url)}
    if options.train:
        seconds, kinds = seed.train(url)
        say(f"trained {', '.join(kinds)} in {seconds:.1f}s")
        done |= {"train_seconds": seconds, "trained": kinds}
    return done


def measure(
    base: str, pid: int | None, workload: Workload, options: Options, say: Say
) -> list[phases.Result]:
    return asyncio.run(phases.run_all(base, workload, options.settings, pid, say))


def scrape(base: str, say: Say) -> str | None:
    """What GET /metrics answers after the load (the JSON's `metrics`); None when
    the server has them off, or wants a key."""
    text = harness.scrape_metrics(base)
    if text is not None:
        series = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
        say(f"scraped /metrics after the load: {series} series (--json: metrics)")
    return text


def database_size(url: str) -> dict[str, Any]:
    with psycopg.connect(url) as conn:
        row = conn.execute(queries.get("bench_database_size")).fetchone()
    assert row is not None
    return {"bytes": int(row[0]), "item_pairs": int(row[1])}


def describe(options: Options) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items()}
