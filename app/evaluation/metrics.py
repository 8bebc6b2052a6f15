"""Accuracy of predicted ratings and of top-k lists."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

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


def average_precision(ranked: Sequence[object], relevant: set[object], k: int) -> float:
    """AP@k: the precision at each hit's rank, summed, over min(k, |relevant|)
    (so a list that puts every reachable hit first scores 1)."""
    if not relevant:
        return 0.0
    found, total = 0, 0.0
    for i, item in enumerate(ranked[:k]):
        if item in relevant:
            found += 1
            total += found / (i + 1)
    return total / min(k, len(relevant))


def reciprocal_rank(ranked: Sequence[object], relevant: set[object], k: int) -> float:
    """1 / the rank of the first hit within k; 0 without one."""
    for i, item in enumerate(ranked[:k]):
        if item in relevant:
            return 1 / (i + 1)
    return 0.0


def hit(ranked: Sequence[object], relevant: set[object], k: int) -> float:
    """1 if any of the top k is relevant."""
    return float(any(item in relevant for item in ranked[:k]))


PER_USER = {
    "ndcg": ndcg,
    "precision": precision,
    "recall": recall,
    "map": average_precision,
    "hit_rate": hit,
    "mrr": reciprocal_rank,
}


def per_user(
    lists: Mapping[Any, Sequence[Any]], relevant: Mapping[Any, set[Any]], k: int
) -> pd.DataFrame:
    """One row per user with relevant items (users with none are left out: no
    list can be right or wrong for them), one column per PER_USER measure.
    A user without a list counts as an empty list: zero on every measure."""
    users = sorted((u for u in relevant if relevant[u]), key=str)
    rows = [[f(lists.get(u, []), relevant[u], k) for f in PER_USER.values()] for u in users]
    return pd.DataFrame(rows, index=pd.Index(users, name="user_id"), columns=list(PER_USER))


def means(frame: pd.DataFrame) -> dict[str, float]:
    """Column means of per_user(); zeros when no user had relevant items."""
    if frame.empty:
        return dict.fromkeys(PER_USER, 0.0)
    return {name: float(frame[name].mean()) for name in PER_USER}
