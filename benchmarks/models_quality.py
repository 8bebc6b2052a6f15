"""Served strategies against references computed directly on the same split,
on ml-100k (temporal and random) and online-retail (temporal: each customer's
latest 20% of first purchases held out by time).

    python -m benchmarks.models_quality [--sets ml-100k:temporal,online-retail:temporal]
        [--data ML100K_DIR] [--retail DIR] [--json PATH]

Each run is `recsys evaluate` (app.evaluation.run.evaluate): a scratch database,
`recsys train` (every tunable chosen on a validation split of the training part,
the same for every data set), each served case asked through its SQL entry point
for every test user, then most-popular, item-kNN (cosine over each user's whole
history), EASE (binary, lambda 200) and EASE tuned on validation, in numpy.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from app.evaluation import run, source
from app.importing.formats import event_format, item_format
from benchmarks import harness

RETAIL = Path(
    os.environ.get("REC_ONLINE_RETAIL")
    or Path(__file__).resolve().parents[2] / "shared" / "data" / "online-retail"
)
SETS = "ml-100k:temporal,ml-100k:random,online-retail:temporal"
REFERENCE = "ease_200"
METRICS = ("ndcg", "recall", "coverage")


def source_of(name: str, ml100k: Path, retail: Path) -> source.Source:
    if name == "ml-100k":
        return source.from_file(
            harness.ml100k_file(ml100k, "u.data"),
            event_format("movielens-100k"),
            (ml100k / "u.item", item_format("movielens-100k")),
        )
    path = retail / "online_retail.csv.gz"
    return source.from_file(
        path, event_format("online-retail"), (path, item_format("online-retail"))
    )


def rows(result: dict[str, Any]) -> list[list[Any]]:
    reference = result["baselines"][REFERENCE]["ndcg"]
    named = [
        *result["strategies"].items(),
        *((f"{n} (direct)", v) for n, v in result["baselines"].items()),
    ]
    return [
        [
            name,
            *(figures.get(m) for m in METRICS),
            figures["ndcg"] / reference if reference else None,
        ]
        for name, figures in named
    ]


def main(argv: list[str] | None = None) -> None:
    p = harness.parser(__doc__.splitlines()[0] if __doc__ else "models_quality")
    p.add_argument("--sets", default=SETS, help="comma-separated data:split")
    p.add_argument("--retail", type=Path, default=RETAIL, help="online-retail directory")
    args = p.parse_args(argv)
    results: dict[str, Any] = {}
    with harness.postgres() as server:
        settings = harness.banner(server)
        for entry in args.sets.split(","):
            name, split = entry.split(":")
            protocol = run.Protocol(split=split)
            result = run.evaluate(server, source_of(name, args.data, args.retail), protocol, False)
            results[entry] = result
            harness.print_table(
                f"{entry}: NDCG@10, recall@10, coverage; x {REFERENCE} (binary EASE, lambda 200)",
                ["list", *METRICS, f"x {REFERENCE}"],
                rows(result),
            )
            for kind, trained in result["training"].items():
                grid = trained["metrics"].get("grid")
                if grid:
                    best = max(grid, key=lambda row: row["ndcg_at_10"])
                    print(f"implicit model chosen on validation: {kind} {best['params']}")
            print(f"timings: {result['timings']}", flush=True)
    harness.write_json(
        args.json,
        {
            "benchmark": "models_quality",
            "machine": harness.machine(),
            "postgres": settings,
            "results": {k: {**v, "by_history": None} for k, v in results.items()},
        },
    )


if __name__ == "__main__":
    main()
