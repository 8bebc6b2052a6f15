"""Accuracy of predicted ratings and of top-k lists."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd


def rmse(truth: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.sqrt(np.mean((truth - predicted) ** 2)))


def mae(truth: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.mean(np.abs(truth - predicted)))


def ndcg(ranked: Sequence[object], relevant: set[object], k: int) -> float:
    """Binary-relevance NDCG@k; the ideal list puts min(k, |relevant|) hits first."""
    gains = sum(1 / math.log2(i + 2) for i, item in enumerate(ranked[:k]) if item in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return gains / ideal if ideal else 0.0


def precision(ranked: Sequence[object], relevant: set[object], k: int) -> float:
    return sum(item in relevant for item in ranked[:k]) / k


def recall(ranked: Sequence[object], relevant: set[object], k: int) -> float:
    return sum(item in relevant for item in ranked[:k]) / len(relevant) if relevant else 0.0


def ranking(
    lists: Mapping[object, Sequence[object]], relevant: Mapping[object, set[object]], k: int = 10
) -> dict[str, float]:
    """Mean NDCG, precision and recall at k over the users with relevant items."""
    users = [u for u in relevant if relevant[u]]
    if not users:
        return {f"ndcg_at_{k}": 0.0, f"precision_at_{k}": 0.0, f"recall_at_{k}": 0.0, "users": 0}
    per = [
        (
            ndcg(lists.get(u, []), relevant[u], k),
            precision(lists.get(u, []), relevant[u], k),
            recall(lists.get(u, []), relevant[u], k),
        )
        for u in users
    ]
    means = np.mean(np.array(per), axis=0)
    return {
        f"ndcg_at_{k}": float(means[0]),
        f"precision_at_{k}": float(means[1]),
        f"recall_at_{k}": float(means[2]),
        "users": len(users),
    }


def relevant_sets(test: pd.DataFrame) -> dict[object, set[object]]:
    """{user_id: {item_id, ...}} of a test frame."""
    return {u: set(items) for u, items in test.groupby("user_id")["item_id"]}
