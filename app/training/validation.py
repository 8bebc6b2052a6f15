"""Validation figures recorded with each run: one temporal split (each user's
latest 20% held out), so explicit and implicit models rank on the same footing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from app.evaluation import metrics, split
from app.training import data
from app.training.neighbors import EASE, ItemKNN
from app.training.surprise_models import MatrixFactorization

HOLDOUT = 0.2
K = 10
BATCH = 512

Scorer = Callable[[np.ndarray], np.ndarray]  # dense user positions -> users x items scores


def top_k(
    index: data.Index, scorer: Scorer, train: pd.DataFrame, test: pd.DataFrame, k: int = K
) -> dict[object, list[object]]:
    """Each known test user's k best items never seen in training."""
    users = np.intersect1d(test["user_id"].unique(), index.user_ids)
    known = train[train["item_id"].isin(index.item_ids) & train["user_id"].isin(users)]
    seen = data.matrix(known, index, "binary").tocsr()
    lists: dict[object, list[object]] = {}
    for start in range(0, len(users), BATCH):
        rows = index.users(users[start : start + BATCH])
        scores = scorer(rows).astype(np.float64)
        scores[seen[rows].nonzero()] = -np.inf
        best = best_k(scores, k)
        for user, items in zip(users[start : start + BATCH], best, strict=True):
            lists[user] = list(index.item_ids[items])
    return lists


def best_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Each row's k best positions, best first, ties within them to the lower
    position (a tie across the k-th place goes either way): a partition, then a
    sort of k, not a sort of the catalogue (20k items)."""
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    values = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -values), axis=-1)
    best: np.ndarray = np.take_along_axis(part, order, axis=1)
    return best


def explicit(model: MatrixFactorization, frame: pd.DataFrame) -> dict[str, Any]:
    train, test = split.temporal(frame, HOLDOUT)
    fitted = model.fit(train).model
    assert fitted is not None
    truth = test["value"].to_numpy()
    predicted = fitted.predict(test["user_id"].to_numpy(), test["item_id"].to_numpy())
    ranking = metrics.ranking(
        top_k(fitted.index, lambda rows: fitted.scores(fitted.index.user_ids[rows]), train, test),
        metrics.relevant_sets(test),
        K,
    )
    return {
        "split": f"temporal, latest {HOLDOUT:.0%} of each user held out",
        "rmse": metrics.rmse(truth, predicted),
        "mae": metrics.mae(truth, predicted),
        "rmse_global_mean": metrics.rmse(truth, np.full(len(truth), train["value"].mean())),
        **ranking,
    }


def implicit(model: EASE | ItemKNN, frame: pd.DataFrame) -> dict[str, Any]:
    train, test = split.temporal(frame, HOLDOUT)
    fitted = model.fit(train).model
    assert fitted is not None
    history = data.matrix(train, fitted.index, model.weighting)
    ranking = metrics.ranking(
        top_k(fitted.index, lambda rows: fitted.scores(history[rows]), train, test),
        metrics.relevant_sets(test),
        K,
    )
    return {"split": f"temporal, latest {HOLDOUT:.0%} of each user held out", **ranking}
