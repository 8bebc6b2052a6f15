"""`recsys bench`: load generator and latency report.

The load generator is the top-level `benchmarks` package, outside the serving
package: imported here only when the command runs, so serving never loads it
nor needs its dependencies (the `bench` extra).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from app.cli.common import Failure

if TYPE_CHECKING:
    from benchmarks import run


@contextmanager
def bench_extra() -> Iterator[None]:
    """Around `benchmarks` imports: one line naming the extra when it is missing."""
    try:
        yield
    except SystemExit as missing:  # benchmarks.MissingExtra
        raise Failure(str(missing)) from None


def phase_list(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...]:
    with bench_extra():
        from benchmarks.phases import PHASES

    if not value:
        return PHASES
    names = tuple(p.strip() for p in value.split(",") if p.strip())
    unknown = [n for n in names if n not in PHASES]
    if unknown:
        raise click.BadParameter(f"unknown {', '.join(unknown)}; known: {', '.join(PHASES)}")
    return names


@click.command()
@click.option("--url", help="Drive this running server (default: serve a throwaway one).")
@click.option("--database-url", help="With --url --load: the server's database, seeded by SQL.")
@click.option("--load", is_flag=True, help="With --url: load the workload first.")
@click.option("--users", default=100_000, show_default=True, help="Synthetic users.")
@click.option("--items", default=10_000, show_default=True, help="Synthetic items.")
@click.option("--events", default=1_000_000, show_default=True, help="Synthetic events.")
@click.option("--seed", default=42, show_default=True, help="Same seed, same workload.")
@click.option("--seconds", default=10.0, show_default=True, help="Measured seconds per phase.")
@click.option("--warmup", default=2.0, show_default=True, help="Uncounted seconds per phase.")
@click.option("--concurrency", default=16, show_default=True, help="Closed-loop clients.")
@click.option("--batch", default=1_000, show_default=True, help="Events per POST /events.")
@click.option("--batch-clients", default=2, show_default=True, help="Clients of POST /events.")
@click.option("--sockets", default=1_000, show_default=True, help="WebSockets of the push phase.")
@click.option("--posters", default=4, show_default=True, help="Concurrent posters (push).")
@click.option("--soak", default=0.0, help="Then mixed load this many seconds (memory check).")
@click.option("--phases", callback=phase_list, help="Comma-separated subset of the phases.")
@click.option("--workers", type=int, default=None, help="Server processes (default: cores).")
@click.option(
    "--no-train", is_flag=True, help="Skip training (collaborative, content, hybrid fall back)."
)
@click.option(
    "--keep", is_flag=True, help="Keep the loaded database (useful with REC_DATABASE_URL)."
)
@click.option("--pid", type=int, help="With --url: the server's pid, to sample its RSS and CPU.")
@click.option("--json", "json_path", type=click.Path(path_type=Path), help="Write JSON here.")
@click.option("--png", type=click.Path(path_type=Path), help="Latency distributions (PNG).")
def bench(**kw: Any) -> None:
    """Closed-loop load on a served recsys with a synthetic, popularity-skewed
    workload; throughput and p50/p95/p99 per phase next to GET /health's.

    Without --url: a throwaway PostgreSQL (REC_DATABASE_URL's server if set),
    the workload bulk-loaded and trained, `recsys serve` on a free port.
    """
    with bench_extra():
        from benchmarks import run

    try:
        run.bench(options(**kw), say=lambda m: click.echo(m, err=True))
    except ValueError as error:
        raise Failure(str(error)) from None


def options(
    url: str | None,
    database_url: str | None,
    load: bool,
    users: int,
    items: int,
    events: int,
    seed: int,
    workers: int | None,
    no_train: bool,
    pid: int | None,
    keep: bool,
    json_path: Path | None,
    png: Path | None,
    **settings: Any,
) -> run.Options:
    with bench_extra():
        from benchmarks import phases, run, workload

    for name, value in {"users": users, "items": items, "events": events}.items():
        if value < 1:
            raise Failure(f"--{name} must be at least 1")
    return run.Options(
        spec=workload.Spec(users, items, events, seed),
        settings=phases.Settings(seed=seed, **settings),
        url=url,
        database_url=database_url,
        load=load,
        train=not no_train,
        workers=workers or os.cpu_count() or 1,
        pid=pid,
        keep=keep,
        json=json_path,
        png=png,
    )
