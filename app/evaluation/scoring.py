"""Score a set of lists: accuracy per user and on average, beyond-accuracy
measures, NDCG by history length, and where the lists fall in popularity."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from app.evaluation import beyond, metrics

# Training history length (pairs) -> bucket label; the first ones match the
# adaptive hybrid's buckets, the rest split long histories further.
HISTORY_BUCKETS: tuple[tuple[int, str], ...] = (
    (1, "1-4"),
    (5, "5-19"),
    (20, "20-49"),
    (50, "50-99"),
    (100, "100-199"),
    (200, "200+"),
)


@dataclass(frozen=True)
class Context:
    """What every set of lists is scored against."""

    relevant: dict[Any, set[Any]]
    k: int
    catalogue: list[str]
    users_of: dict[Any, int]  # item -> training users who had it
    n_users: int
    short_head: set[Any]
    vectors: Mapping[Any, np.ndarray]
    history: pd.Series  # user -> training pairs

    @classmethod
    def of(
        cls,
        train: pd.DataFrame,
        test: pd.DataFrame,
        k: int,
        catalogue: list[str],
        vectors: Mapping[Any, np.ndarray],
    ) -> Context:
        users_of = {
            str(i): int(n) for i, n in train.groupby("item_id")["user_id"].nunique().items()
        }
        every = sorted(set(catalogue) | set(users_of))
        return cls(
            relevant=metrics.relevant_sets(test),
            k=k,
            catalogue=every,
            users_of=dict(users_of),
            n_users=int(train["user_id"].nunique()),
            short_head=beyond.head(dict(users_of), every),
            vectors=vectors,
            history=train.groupby("user_id").size(),
        )


def bucket(length: int) -> str:
    label = HISTORY_BUCKETS[0][1]
    for least, name in HISTORY_BUCKETS:
        if length >= least:
            label = name
    return label


def score(lists: Mapping[Any, Sequence[Any]], ctx: Context) -> tuple[dict[str, Any], pd.Series]:
    """(the figures of one set of lists, its per-user NDCG)."""
    per = metrics.per_user(lists, ctx.relevant, ctx.k)
    asked = {u: lists.get(u, []) for u in per.index}
    figures: dict[str, Any] = {
        **metrics.means(per),
        "users": len(per),
        "mean_list_length": float(np.mean([len(v) for v in asked.values()])) if asked else 0.0,
        "coverage": beyond.coverage(asked, ctx.catalogue),
        "novelty": beyond.novelty(asked, ctx.users_of, ctx.n_users),
        "diversity": beyond.intra_list_diversity(asked, ctx.vectors),
        **beyond.popularity(asked, ctx.users_of, ctx.short_head),
        "popularity_deciles": beyond.popularity_deciles(asked, ctx.users_of, ctx.catalogue),
    }
    return figures, per["ndcg"]


def by_history(ndcg: Mapping[str, pd.Series], ctx: Context) -> dict[str, dict[str, Any]]:
    """Mean NDCG per history bucket for each named set of lists."""
    out: dict[str, dict[str, Any]] = {}
    for _, label in HISTORY_BUCKETS:
        users = [u for u in ctx.history.index if bucket(int(ctx.history[u])) == label]
        if not users:
            continue
        row: dict[str, Any] = {}
        for name, per in ndcg.items():
            mine = per.reindex([u for u in users if u in per.index])
            row[name] = float(mine.mean()) if len(mine) else None
        row["users"] = int(sum(u in ctx.relevant and bool(ctx.relevant[u]) for u in users))
        out[label] = row
    return out


def catalogue_deciles(train: pd.DataFrame, ctx: Context) -> list[float]:
    """Share of the training interactions in each popularity tenth: the reference curve."""
    lists = {u: list(items) for u, items in train.groupby("user_id")["item_id"]}
    return beyond.popularity_deciles(lists, ctx.users_of, ctx.catalogue)


def rating_errors(truth: np.ndarray, predicted: np.ndarray, train_mean: float) -> dict[str, float]:
    return {
        "rmse": metrics.rmse(truth, predicted),
        "mae": metrics.mae(truth, predicted),
        "rmse_global_mean": metrics.rmse(truth, np.full(len(truth), train_mean)),
        "n": len(truth),
    }
