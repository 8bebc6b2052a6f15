"""Rating accuracy on the held-out pairs that carry a rating: each explicit
model through `recsys.predict` (the code behind GET /predict), trained on the
training part and activated in turn, and surprise's KNNBaseline computed
directly as a reference (it is not served: its predictions need every pair
similarity of the user's items, which a top-N table does not keep)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from app.evaluation import ask, scoring
from app.evaluation.progress import Progress
from app.training import runner

KNN_BASELINE = "knnbaseline"
MODELS = (*runner.EXPLICIT, KNN_BASELINE)


def rated(test: pd.DataFrame) -> pd.DataFrame:
    return test[test["rating"].notna()]


def accuracy(
    url: str,
    train: pd.DataFrame,
    test: pd.DataFrame,
    models: Sequence[str],
    options: runner.Options,
    bar: Progress,
) -> dict[str, Any]:
    """RMSE/MAE per model; `models[0]` is the explicit model already trained and active."""
    held = rated(test)
    if held.empty or not models:
        return {}
    truth = held["rating"].to_numpy(dtype=np.float64)
    train_mean = float(train["rating"].mean())
    out = {}
    for n, model in enumerate(models):
        if model == KNN_BASELINE:
            with bar.phase(f"predict ratings, {model}"):
                predicted, fallback = knn_baseline(train, held)
        else:
            if n > 0:
                with bar.phase(f"train {model}"):
                    runner.train(url, [model], options)
            phase = "predict ratings" if n == 0 else f"predict ratings, {model}"
            predicted, fallback = served(url, held, phase, bar)
        figures = scoring.rating_errors(truth, predicted, train_mean)
        out[model] = {**figures, "fallbacks": int(fallback.sum()), "served": model != KNN_BASELINE}
    return out


def served(
    url: str, held: pd.DataFrame, phase: str, bar: Progress
) -> tuple[np.ndarray, np.ndarray]:
    pairs = list(zip(held["user_id"].astype(str), held["item_id"].astype(str), strict=True))
    with bar.phase(phase, total=len(pairs), unit="ratings") as tick:
        return ask.predict(url, pairs, tick)


def knn_baseline(train: pd.DataFrame, held: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Item-based KNNBaseline (pearson_baseline similarities) fitted on the
    training ratings; fallbacks, as for the served models, are the pairs whose
    user or item has no training rating (surprise answers them with baselines)."""
    from surprise import Dataset, KNNBaseline, Reader

    ratings = train[train["rating"].notna()][["user_id", "item_id", "rating"]]
    low, high = float(ratings["rating"].min()), float(ratings["rating"].max())
    data = Dataset.load_from_df(ratings, Reader(rating_scale=(low, high)))
    options = {"name": "pearson_baseline", "user_based": False}
    algo = KNNBaseline(sim_options=options, verbose=False).fit(data.build_full_trainset())
    pairs = list(zip(held["user_id"], held["item_id"], strict=True))
    estimates = [algo.predict(u, i).est for u, i in pairs]
    users, items = set(ratings["user_id"]), set(ratings["item_id"])
    unknown = [u not in users or i not in items for u, i in pairs]
    return np.array(estimates, dtype=np.float64), np.array(unknown, dtype=bool)
