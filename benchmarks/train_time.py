"""`recsys train` on a large catalogue, and the catalogue size past which EASE
leaves the models `--model implicit` tries (app.training.selection).

    python -m benchmarks.train_time [--items 20000] [--events 100000] [--json PATH]

1. EASE's fit alone (Gram matrix, dense inverse, top 100 per item) in numpy on
   random matrices of growing catalogues: the O(items^3) cost that sets
   selection.EASE_AUTO_MAX_ITEMS (its grid is 8 points + 2 list sizes + the final fit).
2. `recsys train` (every model `all` trains, validation grids included) on a
   synthetic shop of --events events over --items items, with each tried
   configuration's seconds from the run's metrics.
"""

from __future__ import annotations

import time
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


def train_all(server: str, spec: Spec) -> dict[str, Any]:
    url = harness.fresh_database(server, DB)
    try:
        seed.load(url, generate(spec), progress=False)
        started = time.perf_counter()
        outcomes = runner.train(url, ["all"], runner.Options(progress=False))
        total = time.perf_counter() - started
    finally:
        harness.drop_database(server, DB)
    runs = {o.kind: o for o in outcomes}
    implicit = next(o for o in outcomes if o.role == "implicit")
    grid = implicit.metrics.get("grid", [])
    return {
        "seconds": total,
        "runs": {k: o.duration_s for k, o in runs.items()},
        "implicit": implicit.kind,
        "grid_seconds": {
            kind: sum(row["seconds"] for row in grid if row["model"] == kind)
            for kind in {row["model"] for row in grid}
        },
    }


def main(argv: list[str] | None = None) -> None:
    p = harness.parser(__doc__.splitlines()[0] if __doc__ else "train_time")
    p.add_argument("--items", type=int, default=20_000)
    p.add_argument("--events", type=int, default=100_000)
    p.add_argument("--users", type=int, default=5_000)
    args = p.parse_args(argv)
    ease = {n: ease_seconds(n, args.events) for n in EASE_SIZES}
    harness.print_table(
        f"EASE fit alone ({args.events:,} events; selection.EASE_AUTO_MAX_ITEMS ="
        f" {selection.EASE_AUTO_MAX_ITEMS:,})",
        ["items", "one fit s", "grid + final (11 fits) s"],
        [[n, s, 11 * s] for n, s in ease.items()],
    )
    spec = Spec(users=args.users, items=args.items, events=args.events)
    with harness.postgres() as server:
        settings = harness.banner(server)
        result = train_all(server, spec)
    harness.print_table(
        f"recsys train (all, validated) on {args.events:,} events over {args.items:,} items",
        ["run", "seconds"],
        [["total", result["seconds"]], *([k, v] for k, v in result["runs"].items())],
    )
    harness.print_table(
        f"validation grid of the implicit run (chose {result['implicit']})",
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
            "load_average": harness.load_average(),
            "spec": vars(spec),
        },
    )


if __name__ == "__main__":
    main()
