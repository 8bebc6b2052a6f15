"""Training cost on MovieLens 100K: wall time and memory of `recsys train
--model X` (validation fit, full fit, COPY, index, activation) on all of
u.data, each model in its own process.

    python -m benchmarks.training [--models svd,svdpp,ease] [--json PATH]

The peak of memory allocated by training itself is measured in a second run
under tracemalloc (numpy and surprise allocations included): the process's
RSS high-water mark is set by imports and reading the tables, which can hide
it. What the models are worth (RMSE, NDCG) is `recsys evaluate`'s job.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from typing import Any

from app.importing.events import import_events
from app.importing.formats import event_format
from app.training import runner
from benchmarks import harness

DB = "bench_training"


def measure_here(url: str, model: str) -> dict[str, float]:
    """In the child process: seconds, tracemalloc peak and peak RSS of training `model`."""
    runner.read_frame(url, model)  # imports and a first read, outside the timing
    started = time.perf_counter()
    runner.train(url, [model], runner.Options(progress=False))
    seconds = time.perf_counter() - started
    tracemalloc.start()
    runner.train(url, [model], runner.Options(progress=False))
    _, traced = tracemalloc.get_traced_memory()
    return {
        "seconds": seconds,
        "traced_peak_mib": traced / 2**20,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def measure_apart(url: str, model: str) -> dict[str, float]:
    """measure_here in a fresh interpreter, so no model inherits another's memory."""
    env = {**os.environ, "REC_DATABASE_URL": url}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.training", "--child", model],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"  {model}: {figures['seconds']:.1f}s", flush=True)
    return figures


def run(server: str, args: argparse.Namespace) -> dict[str, Any]:
    url = harness.fresh_database(server, DB)
    ratings = harness.ml100k_file(args.data, "u.data")
    import_events(url, ratings, event_format("movielens-100k"), progress=False)
    try:
        return {model: measure_apart(url, model) for model in args.models.split(",")}
    finally:
        harness.drop_database(server, DB)


def main(argv: list[str] | None = None) -> None:
    p = harness.parser(__doc__.splitlines()[0] if __doc__ else "training")
    p.add_argument("--models", default="svd,svdpp,ease", help="comma-separated models")
    p.add_argument("--child", metavar="MODEL", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(measure_here(os.environ["REC_DATABASE_URL"], args.child)))
        return
    with harness.postgres() as server:
        settings = harness.banner(server)
        results = run(server, args)
    harness.print_table(
        "training on all of ml-100k (recsys train, with validation; own process)",
        ["model", "wall s", "training peak MiB (tracemalloc)", "process peak RSS MiB"],
        [[m, v["seconds"], v["traced_peak_mib"], v["peak_rss_mib"]] for m, v in results.items()],
    )
    harness.write_json(
        args.json,
        {
            "benchmark": "training",
            "machine": harness.machine(),
            "postgres": settings,
            "results": results,
        },
    )


if __name__ == "__main__":
    main()
