"""Models chosen by the data: every implicit model's tunables, and with
`--model implicit` the model itself, picked on a validation split of the data
being trained on (NDCG@10 of the stored, top-N form the SQL serves).

One procedure for every data set: a small grid per model, then the neighbour
list size of the winner; the grid, the figures and the choice go to the run.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from app.evaluation import metrics, split
from app.training import data, factorization, validation
from app.training.factorization import ImplicitMF
from app.training.graph import RP3beta, rp3beta_scorer
from app.training.neighbors import EASE, ItemKNN

HOLDOUT, K = 0.2, 10
# Past this many items EASE's O(items^3) inverse dominates `recsys train`; the
# measured threshold (benchmarks/train_time.py, docs/models.md).
EASE_AUTO_MAX_ITEMS = 4_000
FAMILIES = ("ease", "rp3beta", "als", "bpr", "item_knn")
# Tried by `--model implicit` (and `all`): BPR ranked last on both data sets.
AUTO = ("ease", "rp3beta", "als", "item_knn")
SIZES = (50, 100, 200)
# Users x items a validation scores per configuration at most: past it, a
# seeded sample of the users is scored (the model is still fitted on every
# user). Scoring is what a grid point costs on a large catalogue; ml-100k
# (1.6M cells) and online-retail (15.6M) are scored whole.
VALIDATION_CELLS = 20_000_000


def product(**axes: Sequence[Any]) -> list[dict[str, Any]]:
    names = list(axes)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*axes.values())]


GRIDS: dict[str, list[dict[str, Any]]] = {
    "ease": product(lam=[100.0, 300.0, 1000.0, 3000.0], weighting=["log", "binary"]),
    "rp3beta": product(alpha=[0.5, 0.75, 1.0], beta=[0.3, 0.45, 0.6], weighting=["binary"]),
    "als": product(factors=[64, 128], alpha=[1.0, 3.0], fold_in=[0.05, 0.3], weighting=["log"]),
    "bpr": product(factors=[64, 128], learning_rate=[0.01, 0.05], weighting=["binary"]),
    "item_knn": product(weighting=["log", "binary"]),
}


def make(kind: str, params: dict[str, Any], seed: int = 0) -> Any:
    """The model of `kind` with `params` (those the grids name; the rest default)."""
    size = int(params.get("n_neighbors", 100))
    weighting = str(params.get("weighting", "log"))
    if kind == "ease":
        return EASE(float(params.get("lam", 500.0)), size, weighting)
    if kind == "item_knn":
        return ItemKNN(size, weighting)
    if kind == "rp3beta":
        alpha, beta = float(params.get("alpha", 1.0)), float(params.get("beta", 0.5))
        return RP3beta(alpha, beta, size, weighting)
    factor_keys = ("factors", "regularization", "alpha", "iterations", "learning_rate")
    mf = {k: params[k] for k in factor_keys if k in params}
    fold_in = float(params.get("fold_in", 0.1))
    return ImplicitMF(kind, mf, size, weighting, fold_in, seed)


@dataclass(frozen=True)
class Validation:
    """The training part of the split, the users' held-out items, and their scoring."""

    train: pd.DataFrame
    test: pd.DataFrame
    label: str

    @classmethod
    def of(cls, frame: pd.DataFrame, name: str, seed: int) -> Validation:
        train, test = split.by_name(name, frame, HOLDOUT, seed)
        users = sampled(np.sort(test["user_id"].unique()), train["item_id"].nunique(), seed)
        label = f"{name}, {HOLDOUT:.0%} of each user held out"
        if len(users) < test["user_id"].nunique():
            test = test[test["user_id"].isin(users)]
            label += f", {len(users):,} users scored"
        return cls(train, test, label)

    def score(self, kind: str, model: Any) -> dict[str, Any]:
        """Figures of the stored top-N form; past EASE_AUTO_MAX_ITEMS items, of
        the untruncated scores (no items x items matrix per configuration)."""
        index = data.Index.of(self.train)
        history = data.matrix(self.train, index, model.weighting)
        if len(index.item_ids) > EASE_AUTO_MAX_ITEMS and kind != "ease":
            scores = untruncated(kind, model, self.train, index)
        else:
            fitted = model.fit(self.train).model
            scores = fitted.scores
        lists = validation.top_k(index, lambda rows: scores(history[rows]), self.train, self.test)
        return metrics.ranking(lists, metrics.relevant_sets(self.test), K)


def sampled(users: np.ndarray, n_items: int, seed: int, most: int | None = None) -> np.ndarray:
    """`users` (sorted), or a seeded sample of them within VALIDATION_CELLS
    (and `most`): what one configuration's scores may cost."""
    budget = max(1, VALIDATION_CELLS // max(int(n_items), 1))
    cap = min(budget, most) if most is not None else budget
    if len(users) <= cap:
        return users
    return np.sort(np.random.default_rng(seed).choice(users, cap, replace=False))


def untruncated(kind: str, model: Any, train: pd.DataFrame, index: data.Index) -> Any:
    """history rows -> dense scores of every item, without keeping top-N lists."""
    if kind == "rp3beta":
        return rp3beta_scorer(data.matrix(train, index, "binary"), model.alpha, model.beta)
    if kind == "item_knn":
        x = data.matrix(train, index, model.weighting).tocsc()
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=0))).ravel()
        xn = sparse.csr_matrix(x @ sparse.diags(1 / np.maximum(norms, 1e-12)))
        to_items = sparse.csr_matrix(xn.T)
        return lambda history: (to_items @ (history @ to_items).toarray().T).T
    return model.scorer(train, index)


def candidates(kinds: Sequence[str], n_items: int) -> list[str]:
    """The families worth trying: EASE only while its inverse is cheap."""
    kept = [k for k in kinds if k != "ease" or n_items <= EASE_AUTO_MAX_ITEMS]
    return kept or list(kinds)


def choose(
    kinds: Sequence[str],
    frame: pd.DataFrame,
    fixed: dict[str, dict[str, Any]],
    name: str = "temporal",
    seed: int = 0,
    step: Callable[[str], None] = lambda _: None,
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(kind, params, metrics) of the best configuration on validation.
    `fixed` params of a kind (given by the caller) are not searched."""
    check = Validation.of(frame, name, seed)
    grid: list[dict[str, Any]] = []
    with factorization.reuse_fits():
        for kind in kinds:
            given = fixed.get(kind, {})
            points = [{**point, **given} for point in GRIDS[kind]]
            for params in [p for n, p in enumerate(points) if p not in points[:n]]:
                step(f"validating {kind} {params}")
                grid.append(_tried(kind, params, check, seed))
        best = max(grid, key=lambda row: row["ndcg_at_10"])
        small = int(frame["item_id"].nunique()) <= EASE_AUTO_MAX_ITEMS
        if small and "n_neighbors" not in fixed.get(best["model"], {}):
            for size in SIZES:
                if size != best["params"].get("n_neighbors", 100):
                    params = {**best["params"], "n_neighbors": size}
                    step(f"validating {best['model']} {params}")
                    grid.append(_tried(best["model"], params, check, seed))
            best = max(grid, key=lambda row: row["ndcg_at_10"])
    chosen = {"n_neighbors": 100, **best["params"]}
    figures = {k: v for k, v in best.items() if k not in ("model", "params", "seconds")}
    summary = {"split": check.label, **figures, "chosen_by": "validation", "grid": grid}
    return best["model"], chosen, summary


def _tried(kind: str, params: dict[str, Any], check: Validation, seed: int) -> dict[str, Any]:
    started = time.perf_counter()
    figures = check.score(kind, make(kind, params, seed))
    took = round(time.perf_counter() - started, 2)
    return {"model": kind, "params": params, **figures, "seconds": took}
