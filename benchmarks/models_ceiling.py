"""What item-item models and their blends could reach over plain EASE, in numpy
(no SQL, no truncation unless said), on the splits of benchmarks.models_quality.

    python -m benchmarks.models_ceiling [--sets ml-100k:random] [--json PATH]

Per split: every model's NDCG@10 on validation (the training part split again
the same way) and on the test part, with every neighbour kept and with 200
(what `item_neighbors` stores at most), as a multiple of binary EASE lambda 200
on the test part; then blends of two models and of three of the five best on
validation (each user's scores divided by their best, weights on a 0.1 grid),
the blend chosen on validation and, as an upper bound nobody can serve, the
best on the test part itself.
It answers "is there a configuration worth serving that beats EASE by 5%?"
before anything is built into SQL.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from app.evaluation import source, split
from app.training import data
from app.training.factorization import DEFAULTS, fit_factors, fold_in_left
from app.training.graph import rp3beta_weights
from app.training.hybrid import ndcg_at_k
from app.training.neighbors import ease_weights, top_per_row
from benchmarks import harness, models_quality

SEED, HOLDOUT, STORED = 42, 0.2, 200
TRIPLES = 5  # triples are blended from this many models, the best on validation
REFERENCE = "ease lam=200 binary"
# The default event types of a fresh schema (sql/01_base.sql), plus the formats' own.
TYPES = [
    {"name": "view", "weight": 1.0, "uses_value": False},
    {"name": "add_to_cart", "weight": 3.0, "uses_value": False},
    {"name": "purchase", "weight": 5.0, "uses_value": False},
    {"name": "rating", "weight": 1.0, "uses_value": True},
]
Model = tuple[np.ndarray, str]  # items x items weights, the history weighting they take


def pairs_of(name: str, args: Any) -> pd.DataFrame:
    """(user_id, item_id, value, ts) on dense integer ids, as training reads them."""
    src = models_quality.source_of(name, args.data, args.retail)
    types = TYPES + [{"uses_value": False, **t} for t in src.extra_types]
    pairs = source.pairs(src.events, types)
    users = {u: n for n, u in enumerate(sorted(pairs["user_id"].unique()))}
    items = {i: n for n, i in enumerate(sorted(pairs["item_id"].unique()))}
    return pd.DataFrame(
        {
            "user_id": pairs["user_id"].map(users).astype("int64"),
            "item_id": pairs["item_id"].map(items).astype("int64"),
            "value": pairs["value"].astype("float64"),
            "ts": pairs["ts"].astype("float64"),
        }
    )


@dataclass
class Fold:
    """A training part and the held-out items of its users, on one dense index."""

    x: dict[str, sparse.csr_matrix]
    rows: np.ndarray
    relevant: sparse.csr_matrix

    @classmethod
    def of(cls, train: pd.DataFrame, test: pd.DataFrame) -> Fold:
        index = data.Index.of(train)
        test = test[test["item_id"].isin(index.item_ids) & test["user_id"].isin(index.user_ids)]
        users = np.sort(test["user_id"].unique())
        cells = (np.searchsorted(users, test["user_id"]), index.items(test["item_id"]))
        shape = (len(users), len(index.item_ids))
        relevant = sparse.csr_matrix((np.ones(len(test)), cells), shape=shape)
        x = {w: data.matrix(train, index, w).tocsr() for w in ("binary", "log")}
        return cls(x, index.users(users), relevant)

    def scores(self, model: Model, keep: int | None = None) -> np.ndarray:
        """Users x items, seen items -inf, each row divided by its best."""
        weights = top_per_row(model[0], keep).toarray() if keep else model[0]
        s = np.asarray(self.x[model[1]][self.rows] @ weights, dtype=np.float32)
        s[self.x["binary"][self.rows].nonzero()] = -np.inf
        best = np.max(np.where(np.isfinite(s), s, 0), axis=1, keepdims=True)
        return s / np.where(best > 0, best, 1)

    def ndcg(self, scores: np.ndarray) -> float:
        return ndcg_at_k(scores, self.relevant)


def models(fold: Fold) -> Iterator[tuple[str, Model]]:
    """The families `recsys train` tries, on a few points of their grids."""
    for lam, weighting in itertools.product((200.0, 500.0, 1000.0), ("binary", "log")):
        yield f"ease lam={lam:g} {weighting}", (ease_weights(fold.x[weighting], lam), weighting)
    binary = fold.x["binary"]
    for alpha, beta in ((0.5, 0.3), (0.5, 0.6), (1.0, 0.5)):
        w = rp3beta_weights(binary, alpha, beta, binary.shape[1]).toarray()
        yield f"rp3beta {alpha}/{beta}", (w, "binary")
    x = fold.x["log"].tocsc()
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=0))).ravel()
    xn = sparse.csr_matrix(x @ sparse.diags(1 / np.maximum(norms, 1e-12)))
    cosine = np.asarray((xn.T @ xn).todense())
    np.fill_diagonal(cosine, 0)
    yield "item_knn log", (cosine, "log")
    y = fit_factors("als", fold.x["log"], {**DEFAULTS["als"], "alpha": 1.0}, SEED)
    w = fold_in_left(y, 0.3) @ y.T
    np.fill_diagonal(w, 0)
    yield "als 64", (w, "log")


def blends(
    names: list[str], best: list[str]
) -> Iterator[tuple[tuple[str, ...], tuple[float, ...]]]:
    """Every pair of `names`, every triple of the `best` few, weights on a 0.1 grid."""
    steps = [n / 10 for n in range(1, 10)]
    for pair in itertools.combinations(names, 2):
        for a in steps:
            yield pair, (a, round(1 - a, 1))
    for triple in itertools.combinations(best, 3):
        for a, b in itertools.product(steps, steps):
            if a + b < 0.95:
                yield triple, (a, b, round(1 - a - b, 1))


def one_split(name: str, split_name: str, args: Any) -> dict[str, Any]:
    frame = pairs_of(name, args)
    train, test = split.by_name(split_name, frame, HOLDOUT, SEED)
    inner, held = split.by_name(split_name, train, HOLDOUT, SEED)
    val, out = Fold.of(inner, held), Fold.of(train, test)
    scores: dict[str, dict[str, np.ndarray]] = {"val": {}, "test": {}}
    singles: dict[str, dict[str, float]] = {}
    for (label, vmodel), (_, tmodel) in zip(models(val), models(out), strict=True):
        scores["val"][label], scores["test"][label] = val.scores(vmodel), out.scores(tmodel)
        singles[label] = {
            "val": val.ndcg(scores["val"][label]),
            "test": out.ndcg(scores["test"][label]),
            "test_stored": out.ndcg(out.scores(tmodel, STORED)),
        }
    reference = singles[REFERENCE]["test"]
    tried: list[dict[str, Any]] = []
    ranked = sorted(singles, key=lambda n: -singles[n]["val"])
    for combo, weights in blends(ranked, ranked[:TRIPLES]):
        figures = {}
        for part, fold in (("val", val), ("test", out)):
            mix = sum(w * scores[part][n] for w, n in zip(weights, combo, strict=True))
            figures[part] = fold.ndcg(np.asarray(mix))
        tried.append({"models": combo, "weights": weights, **figures})
    on_val = max(tried, key=lambda row: row["val"])
    on_test = max(tried, key=lambda row: row["test"])
    best_single = max(singles, key=lambda n: singles[n]["val"])
    return {
        "reference_ndcg": reference,
        "singles": singles,
        "single_chosen_on_validation": best_single,
        "blend_chosen_on_validation": on_val,
        "blend_best_on_test": on_test,
        "blends_tried": len(tried),
    }


def report(entry: str, result: dict[str, Any]) -> None:
    ref, singles = result["reference_ndcg"], result["singles"]
    harness.print_table(
        f"{entry}: NDCG@10 as a multiple of {REFERENCE} on the test part ({ref:.4f})",
        ["model", "validation NDCG", "x ref, every neighbour", f"x ref, top {STORED}"],
        [[n, f["val"], f["test"] / ref, f["test_stored"] / ref] for n, f in singles.items()],
    )
    for label in ("blend_chosen_on_validation", "blend_best_on_test"):
        row = result[label]
        mix = ", ".join(f"{w:g} {m}" for w, m in zip(row["weights"], row["models"], strict=True))
        print(f"{label}: {mix}: x {row['test'] / ref:.3f} (validation {row['val']:.4f})")


def main(argv: list[str] | None = None) -> None:
    p = harness.parser(__doc__.splitlines()[0] if __doc__ else "models_ceiling")
    p.add_argument("--sets", default="ml-100k:random,ml-100k:temporal")
    p.add_argument("--retail", type=Path, default=models_quality.RETAIL)
    args = p.parse_args(argv)
    results = {}
    for entry in args.sets.split(","):
        name, split_name = entry.split(":")
        results[entry] = one_split(name, split_name, args)
        report(entry, results[entry])
    harness.write_json(
        args.json,
        {"benchmark": "models_ceiling", "machine": harness.machine(), "results": results},
    )


if __name__ == "__main__":
    main()
