"""Reference lists computed directly with numpy on the same split: random,
most popular, and EASE (full item x item matrix, its regularisation and
weighting chosen on a validation split of the training part only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from app.evaluation import metrics, split
from app.training import data
from app.training.neighbors import EASE_MAX_ITEMS, ease_weights

LAMBDAS = (50.0, 100.0, 200.0, 300.0, 500.0, 800.0, 1200.0, 2000.0, 3000.0)
WEIGHTINGS = ("binary", "log")
BATCH = 1_024

Lists = dict[str, list[str]]


def top_k(scores: np.ndarray, seen: np.ndarray, k: int) -> np.ndarray:
    """Positions of each row's k best unseen columns. Ties go to the lower
    column (the lower item id: the index is sorted), so lists are reproducible."""
    masked = np.where(seen, -np.inf, scores)
    order = np.argsort(-masked, axis=1, kind="stable")[:, :k]
    # Fewer than k unseen items: drop the seen ones the sort put last.
    return np.where(np.take_along_axis(seen, order, axis=1), -1, order)


@dataclass(frozen=True)
class Training:
    """The training pairs laid out on a dense index."""

    index: data.Index
    seen: sparse.csr_matrix  # users x items, 1 where the user had the item

    @classmethod
    def of(cls, train: pd.DataFrame) -> Training:
        index = data.Index.of(train)
        return cls(index, data.matrix(train, index, "binary").tocsr())

    def rows(self, users: list[str]) -> np.ndarray:
        known = np.isin(np.asarray(users, dtype=object), self.index.user_ids)
        if not known.all():
            raise ValueError("every evaluated user must have training pairs")
        return self.index.users(np.asarray(users, dtype=object))

    def lists(self, users: list[str], scores_of: Any, k: int) -> Lists:
        """Top-k per user from `scores_of(rows) -> users x items`, in batches."""
        out: Lists = {}
        for start in range(0, len(users), BATCH):
            chunk = users[start : start + BATCH]
            rows = self.rows(chunk)
            best = top_k(scores_of(rows), self.seen[rows].toarray() > 0, k)
            for user, positions in zip(chunk, best, strict=True):
                out[user] = [str(self.index.item_ids[p]) for p in positions if p >= 0]
        return out


def random_lists(train: pd.DataFrame, users: list[str], k: int, seed: int) -> Lists:
    """k unseen training items per user, uniformly at random (seeded)."""
    layout = Training.of(train)
    rng = np.random.default_rng(seed)
    return layout.lists(users, lambda rows: rng.random((len(rows), layout.seen.shape[1])), k)


def popular_lists(train: pd.DataFrame, users: list[str], k: int) -> Lists:
    """The unseen items most training users had."""
    layout = Training.of(train)
    counts = np.asarray(layout.seen.sum(axis=0), dtype=np.float64).ravel()
    return layout.lists(users, lambda rows: np.tile(counts, (len(rows), 1)), k)


def ease_lists(train: pd.DataFrame, users: list[str], k: int, lam: float, weighting: str) -> Lists:
    """EASE (Steck 2019) with the full B: scores = X B, seen items removed."""
    layout = Training.of(train)
    x = data.matrix(train, layout.index, weighting)
    b = ease_weights(x, lam)
    return layout.lists(users, lambda rows: np.asarray(x[rows] @ b), k)


def knn_lists(train: pd.DataFrame, users: list[str], k: int) -> Lists:
    """Item-kNN: cosine between items over each user's whole (binary) history,
    every neighbour kept; score(j) = sum over the user's items of cos(i, j)."""
    layout = Training.of(train)
    x = layout.seen.astype(np.float64).tocsc()
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=0))).ravel()
    xn = sparse.csr_matrix(x @ sparse.diags(1 / np.maximum(norms, 1e-12)))
    sims = sparse.csr_matrix(xn.T @ xn)
    sims.setdiag(0)
    seen = layout.seen.astype(np.float64)
    return layout.lists(users, lambda rows: np.asarray((seen[rows] @ sims).todense()), k)


def fits_ease(train: pd.DataFrame) -> bool:
    return int(train["item_id"].nunique()) <= EASE_MAX_ITEMS


def tune_ease(
    train: pd.DataFrame, split_name: str, holdout: float, seed: int, k: int
) -> dict[str, Any]:
    """The (lambda, weighting) with the best NDCG@k when the training part is
    split again the same way: the test part is never looked at."""
    inner, held = split.by_name(split_name, train, holdout, seed)
    relevant = metrics.relevant_sets(held)
    users = sorted(str(u) for u in relevant)
    grid: list[dict[str, Any]] = []
    for weighting in WEIGHTINGS:
        for lam in LAMBDAS:
            found = ease_lists(inner, users, k, lam, weighting)
            score = metrics.means(metrics.per_user(found, relevant, k))["ndcg"]
            grid.append({"lam": lam, "weighting": weighting, "ndcg": score})
    best = max(grid, key=lambda row: float(row["ndcg"]))
    return {"lam": best["lam"], "weighting": best["weighting"], "grid": grid}
