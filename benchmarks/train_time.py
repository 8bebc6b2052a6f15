"""`recsys train` on a large catalogue, and the catalogue size past which EASE
leaves the models `--model implicit` tries (app.training.selection).

    python -m benchmarks.train_time [--items 20000] [--events 100000] [--json PATH]

1. EASE's fit alone (Gram matrix, dense inverse, top 100 per item) in numpy on
   random matrices of growing catalogues: the O(items^3) cost that sets
   selection.EASE_AUTO_MAX_ITEMS (its grid is 8 points + 2 list sizes + the final fit).
2. `recsys train` (every model `all` trains, validation grids included) on a
   synthetic shop of --events events over --items items: each run's seconds,
   each stage's (the progress messages `recsys train` shows, timed one to the
   next, a grid's configurations summed per model), and each tried
   configuration's seconds from the run's metrics.
"""

from __future__ import annotations

import re
import resource
import time
from collections.abc import Callable
from typing import Any

from scipy import sparse

from app.training import runner, selection
from app.training.neighbors import ease_weights, top_per_row
from benchmarks import harness, seed
from benchmarks.workload import Spec, generate

DB = "bench_train_time"
EASE_SIZES = (1_000, 2_000, 4_000, 6_000)


def ease_seconds(n_items: int, events: int, users: int = 5_000) -> float:
    x = sparse.random(users, n_items, density=events / (users * n_items), format="csr", rng=0)
    started = time.perf_counter()
    top_per_row(ease_weights(x, 200.0), 100)
    return time.perf_counter() - started


class Stages:
    """Seconds between `recsys train`'s progress messages, summed per stage (a
    message without its parameters: every grid point of a model is one stage),
    wall and this process's CPU (user + system: the load of other jobs slows
    the wall, far less the CPU; the server's own work is not in it)."""

    def __init__(self) -> None:
        self.marks: list[tuple[float, float, str]] = []

    def step(self, message: str) -> None:
        stage = re.sub(r" \{.*\}$| [\d,]+ rows$", "", message)
        self.marks.append((time.perf_counter(), cpu_seconds(), stage))

    def seconds(self) -> dict[str, dict[str, float]]:
        ends = [*((t, c) for t, c, _ in self.marks[1:]), (time.perf_counter(), cpu_seconds())]
        out: dict[str, dict[str, float]] = {}
        for (wall, cpu, stage), (wall_end, cpu_end) in zip(self.marks, ends, strict=True):
            seen = out.setdefault(stage, {"wall": 0.0, "cpu": 0.0})
            seen["wall"] = round(seen["wall"] + wall_end - wall, 2)
            seen["cpu"] = round(seen["cpu"] + cpu_end - cpu, 2)
        return out


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def train_all(server: str, spec: Spec) -> dict[str, Any]:
    url = harness.fresh_database(server, DB)
    stages = Stages()
    try:
        seed.load(url, generate(spec), progress=False)
        started, cpu = time.perf_counter(), cpu_seconds()
        outcomes = train_timed(url, stages.step)
        total, total_cpu = time.perf_counter() - started, cpu_seconds() - cpu
        stage_seconds = stages.seconds()
    finally:
        harness.drop_database(server, DB)
    runs = {o.kind: o for o in outcomes}
    implicit = next(o for o in outcomes if o.role == "implicit")
    grid = implicit.metrics.get("grid", [])
    return {
        "seconds": total,
        "cpu_seconds": total_cpu,
        "runs": {k: o.duration_s for k, o in runs.items()},
        "stages": stage_seconds,
        "implicit": implicit.kind,
        "implicit_metrics": {k: v for k, v in implicit.metrics.items() if k != "grid"},
        "validation": implicit.metrics.get("split"),
        "grid": [{k: row[k] for k in ("model", "params", "ndcg_at_10", "seconds")} for row in grid],
        "grid_seconds": {
            kind: sum(row["seconds"] for row in grid if row["model"] == kind)
            for kind in {row["model"] for row in grid}
        },
    }


def train_timed(url: str, step: Callable[[str], None]) -> list[runner.Outcome]:
    """What `recsys train` runs (runner.train), each model's progress timed."""
    options = runner.Options(progress=False)
    return [runner.train_one(url, kind, options, step) for kind in runner.plan(url, ["all"]).kinds]


def main(argv: list[str] | None = None) -> None:
    p = harness.parser(__doc__.splitlines()[0] if __doc__ else "train_time")
    p.add_argument("--items", type=int, default=20_000)
    p.add_argument("--events", type=int, default=100_000)
    p.add_argument("--users", type=int, default=5_000)
    p.add_argument(
        "--ease-sizes",
        default=",".join(map(str, EASE_SIZES)),
        help="catalogues of the EASE-alone table, comma-separated ('' skips it)",
    )
    args = p.parse_args(argv)
    sizes = [int(n) for n in args.ease_sizes.split(",") if n]
    ease = {n: ease_seconds(n, args.events) for n in sizes}
    if ease:
        harness.print_table(
            f"EASE fit alone ({args.events:,} events; selection.EASE_AUTO_MAX_ITEMS ="
            f" {selection.EASE_AUTO_MAX_ITEMS:,})",
            ["items", "one fit s", "grid + final (11 fits) s"],
            [[n, s, 11 * s] for n, s in ease.items()],
        )
    spec = Spec(users=args.users, items=args.items, events=args.events)
    load_before = harness.load_average()
    with harness.postgres() as server:
        settings = harness.banner(server)
        result = train_all(server, spec)
    harness.print_table(
        f"recsys train (all, validated) on {args.events:,} events over {args.items:,} items",
        ["run", "seconds"],
        [["total", result["seconds"]], *([k, v] for k, v in result["runs"].items())],
    )
    print(f"this process's CPU: {result['cpu_seconds']:.1f} s")
    harness.print_table(
        "stages (from one progress message to the next)",
        ["stage", "wall s", "CPU s"],
        [[k, v["wall"], v["cpu"]] for k, v in result["stages"].items()],
    )
    harness.print_table(
        f"validation grid of the implicit run ({result['validation']}; chose {result['implicit']})",
        ["model", "seconds"],
        [[k, v] for k, v in sorted(result["grid_seconds"].items())],
    )
    harness.write_json(
        args.json,
        {
            "benchmark": "train_time",
            "machine": harness.machine(),
            "postgres": settings,
            "ease_seconds": {str(n): s for n, s in ease.items()},
            "train": result,
            "load_average": {"before": load_before, "after": harness.load_average()},
            "spec": vars(spec),
        },
    )


if __name__ == "__main__":
    main()
