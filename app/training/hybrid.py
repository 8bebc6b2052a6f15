"""Adaptive hybrid: blend weights per history-length bucket, fitted on a validation split.

recsys.adaptive blends four candidate lists (collaborative = the implicit model's
neighbours, behaviour-based co-occurrence, content centroid, popular), each
divided by its best score, with the weights of the user's bucket (0, 1-4, 5-19,
20+ interactions). Here the same scores are computed with numpy on each user's
earliest 80%, with the history cut to a length typical of the bucket, and a
grid over the weight simplex picks the weights that rank the held-out 20% best
(NDCG@10). The weights go to the run's params; nothing else is stored.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from scipy import sparse

from app import recommenders
from app.evaluation import split
from app.training import data, selection
from app.training.neighbors import EASE_LAMBDA, N_NEIGHBORS

# recsys.adaptive's weights are keyed by these; their order is the grid's.
SOURCES = recommenders.BLENDED
# Bucket -> history length simulated for its validation users (None: all of it),
# and the least training history a user needs to stand for the bucket.
BUCKETS: dict[str, tuple[int | None, int]] = {"1-4": (3, 3), "5-19": (10, 10), "20+": (None, 20)}
ONLY_POPULAR = {**dict.fromkeys(SOURCES, 0.0), recommenders.FALLBACK: 1.0}
# RECENT, DECAY and HALF_LIFE_S redo in numpy what the SQL does with its
# defaults: recsys.settings.recent_items, behavior_based's 0.9^rank and
# recsys.settings.popularity_half_life (tests/integration/sql/test_limits.py).
HOLDOUT, K, RECENT, DECAY = 0.2, 10, 20, 0.9
HALF_LIFE_S = 14 * 86_400.0
# Half-lives of `popular` tried on validation; the best is written to
# recsys.settings.popularity_half_life (3650 days: about all-time counts).
HALF_LIVES_DAYS = (1.0, 7.0, 14.0, 30.0, 90.0, 365.0, 3650.0)
# Past EASE's size (selection.EASE_AUTO_MAX_ITEMS) the weights are searched on
# a simplex of this step: 56 points instead of 286, the weight grid being most
# of a large catalogue's hybrid run (benchmarks/train_time.py, docs/models.md).
LARGE_STEP = 0.2


def decayed(train: pd.DataFrame, index: data.Index, half_life_s: float) -> np.ndarray:
    """Each item's weighted events, halved every half_life_s before the latest."""
    age = train["ts"].max() - train["ts"].to_numpy()
    weights = train["value"].clip(lower=0).to_numpy() * np.power(2.0, -age / half_life_s)
    return np.bincount(
        index.items(train["item_id"]), weights=weights, minlength=len(index.item_ids)
    )


def simplex(step: float) -> list[dict[str, float]]:
    """Every weight vector over SOURCES on a grid of `step`, summing to 1."""
    n = round(1 / step)
    grid = []
    for parts in itertools.product(range(n + 1), repeat=len(SOURCES) - 1):
        if sum(parts) <= n:
            weights = [*parts, n - sum(parts)]
            grid.append({s: w / n for s, w in zip(SOURCES, weights, strict=True)})
    return grid


def ndcg_at_k(scores: np.ndarray, relevant: sparse.csr_matrix, k: int = K) -> float:
    """Mean binary NDCG@k of score rows against relevant rows (users with any)."""
    k = min(k, scores.shape[1])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.take_along_axis(scores, top, axis=1).argsort(axis=1)[:, ::-1]
    top = np.take_along_axis(top, order, axis=1)
    rows = np.arange(scores.shape[0])[:, None]
    hits = np.asarray(relevant[rows, top].todense()) > 0
    discounts = 1 / np.log2(np.arange(2, k + 2))
    n_relevant = np.minimum(np.asarray(relevant.sum(axis=1)).ravel(), k).astype(int)
    ideal = np.cumsum(discounts)[np.maximum(n_relevant - 1, 0)]
    keep = n_relevant > 0
    return float(np.mean((hits @ discounts)[keep] / ideal[keep])) if keep.any() else 0.0


@dataclass
class Signals:
    """What every strategy needs, learned from the training part."""

    index: data.Index
    ease: sparse.csr_matrix  # the implicit model's item x item weights
    weighting: str
    cooccurrence: sparse.csr_matrix
    embeddings: np.ndarray  # items x dims on the index, zero rows for none
    popularity: np.ndarray

    @classmethod
    def learn(
        cls, train: pd.DataFrame, embeddings: dict[int, np.ndarray], implicit: Any
    ) -> Signals:
        model = implicit.fit(train).model
        assert model is not None
        index = model.index
        binary = data.matrix(train, index, "binary")
        counts = (binary.T @ binary).tocsr().astype(np.float64)
        n = counts.diagonal().copy()
        counts.setdiag(0)
        counts.eliminate_zeros()
        norm = sparse.diags(1 / np.sqrt(np.maximum(n, 1)))
        dims = len(next(iter(embeddings.values()))) if embeddings else 1
        vectors = np.zeros((len(index.item_ids), dims))
        for pos, item in enumerate(index.item_ids):
            if int(item) in embeddings:
                vectors[pos] = embeddings[int(item)]
        popularity = decayed(train, index, HALF_LIFE_S)
        return cls(
            index, model.weights, implicit.weighting, norm @ counts @ norm, vectors, popularity
        )

    def scores(self, history: pd.DataFrame, users: np.ndarray) -> dict[str, np.ndarray]:
        """Users x items score matrices of each strategy from `history` rows."""
        logged = self.cells(history, users, data.weights(history["value"], self.weighting))
        recent = history.sort_values("ts", ascending=False).groupby("user_id").head(RECENT)
        rank = recent.groupby("user_id").cumcount().to_numpy()
        recency = self.cells(recent, users, data.weights(recent["value"], "log") * DECAY**rank)
        centroid = recency @ self.embeddings
        norms = np.linalg.norm(centroid, axis=1, keepdims=True)
        content = np.divide(centroid, norms, out=np.zeros_like(centroid), where=norms > 0)
        return {
            "collaborative": np.asarray((logged @ self.ease).todense()),
            "behavior_based": np.asarray((recency @ self.cooccurrence).todense()),
            "content_based": content @ self.embeddings.T,
            "popular": np.tile(self.popularity, (len(users), 1)),
        }

    def cells(self, rows: pd.DataFrame, users: np.ndarray, values: np.ndarray) -> sparse.csr_matrix:
        """A users x items matrix holding `values` at the rows' (user, item) cells."""
        at = (np.searchsorted(users, rows["user_id"].to_numpy()), self.index.items(rows["item_id"]))
        return sparse.csr_matrix((values, at), shape=(len(users), len(self.index.item_ids)))


@dataclass
class Candidates:
    """Each user's candidates from every source, as recsys.adaptive sees them:
    the source's best `n` unseen items, scores divided by the list's best, laid
    out on the union of the user's candidates (items x sources), so a weight
    vector is scored without a users x catalogue matrix."""

    items: np.ndarray  # users x width item positions, -1 pads
    parts: np.ndarray  # sources x users x width normalised scores
    relevant: np.ndarray  # users x width: the candidate is held out for the user
    n_relevant: np.ndarray  # users: held-out items (candidates or not)

    BATCH: ClassVar[int] = 500

    @classmethod
    def of(
        cls,
        signals: Signals,
        history: pd.DataFrame,
        seen: pd.DataFrame,
        asked: pd.DataFrame,
        users: np.ndarray,
        n: int,
    ) -> Candidates:
        width = len(SOURCES) * min(n, len(signals.index.item_ids))
        items = np.full((len(users), width), -1)
        parts = np.zeros((len(SOURCES), len(users), width), dtype=np.float32)
        mask = signals.cells(seen, users, np.ones(len(seen))).tocsr()
        relevant = signals.cells(asked, users, np.ones(len(asked))).tocsr()
        for start in range(0, len(users), cls.BATCH):
            chunk = users[start : start + cls.BATCH]
            mine = history[history["user_id"].isin(chunk)]
            scores = signals.scores(mine, chunk)
            rows = slice(start, start + len(chunk))
            tops = [keep_top_masked(scores[s], mask[rows], n) for s in SOURCES]
            for r in range(len(chunk)):
                cols = np.concatenate([top[0][r] for top in tops])
                values = np.concatenate([top[1][r] for top in tops])
                keep = values > 0
                union, where = np.unique(cols[keep], return_inverse=True)
                items[start + r, : len(union)] = union
                source = np.repeat(np.arange(len(SOURCES)), [len(t[0][r]) for t in tops])[keep]
                np.add.at(parts[:, start + r], (source, where), values[keep])
        used = max(int((items >= 0).sum(axis=1).max(initial=0)), 1)
        items, parts = items[:, :used], np.ascontiguousarray(parts[:, :, :used])
        hits = np.asarray(relevant[np.arange(len(users))[:, None], np.maximum(items, 0)].todense())
        n_relevant = np.asarray(relevant.sum(axis=1)).ravel()
        return cls(items, parts, (hits > 0) & (items >= 0), n_relevant)

    def ndcg(self, weights: dict[str, float], k: int = K) -> float:
        """Mean NDCG@k of the blend (users with held-out items)."""
        # The SQL fills ties and gaps with popular items.
        blend = 1e-6 * self.parts[SOURCES.index("popular")]
        for n, source in enumerate(SOURCES):
            if weights.get(source, 0.0):
                blend = blend + np.float32(weights[source]) * self.parts[n]
        blend[(blend <= 0) | (self.items < 0)] = -np.inf
        k = min(k, blend.shape[1])
        top = np.argpartition(-blend, k - 1, axis=1)[:, :k]
        order = np.take_along_axis(blend, top, axis=1).argsort(axis=1)[:, ::-1]
        top = np.take_along_axis(top, order, axis=1)
        found = np.take_along_axis(self.relevant, top, axis=1)
        found &= np.isfinite(np.take_along_axis(blend, top, axis=1))
        discounts = 1 / np.log2(np.arange(2, k + 2))
        wanted = np.minimum(self.n_relevant, k).astype(int)
        ideal = np.cumsum(discounts)[np.maximum(wanted - 1, 0)]
        keep = wanted > 0
        return float(np.mean((found @ discounts)[keep] / ideal[keep])) if keep.any() else 0.0


def keep_top_masked(
    scores: np.ndarray, seen: sparse.csr_matrix, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """(positions, scores / row best) of each row's n best unseen positive scores."""
    scores = scores.astype(np.float64, copy=True)
    scores[seen.nonzero()] = -np.inf
    n = min(n, scores.shape[1])
    top = np.argpartition(-scores, n - 1, axis=1)[:, :n]
    values = np.maximum(np.take_along_axis(scores, top, axis=1), 0)
    best = values.max(axis=1, keepdims=True)
    normalised = np.divide(values, best, out=np.zeros_like(values), where=best > 0)
    return top, normalised


@dataclass
class HybridWeights:
    """Fit returns self (surprise's convention); `weights` maps bucket -> source -> weight."""

    candidates: int = 100
    step: float = 0.1
    min_history: int = 5
    max_users: int = 3_000
    random_state: int = 0
    lam: float = EASE_LAMBDA
    n_neighbors: int = N_NEIGHBORS
    # The collaborative part: the active implicit run's model and params
    # (lam and n_neighbors are EASE's defaults when none is given).
    model: str = "ease"
    model_params: dict[str, Any] = field(default_factory=dict)
    # How the validation part is held out of the training data (app.evaluation.split):
    # temporal by default, as serving predicts the future; `recsys evaluate` fits
    # the weights under the protocol it then scores with.
    validation: str = "temporal"
    weights: dict[str, dict[str, float]] = field(default_factory=dict)
    # Bucket -> the strategies recsys.switching tries, strongest on validation first.
    switching: dict[str, list[str]] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    # Chosen on validation by fit (recsys.settings.popularity_half_life).
    half_life_days: float = HALF_LIFE_S / 86_400.0

    def fit(
        self,
        frame: pd.DataFrame,
        embeddings: dict[int, np.ndarray],
        progress: Callable[[str], None] = lambda _: None,
    ) -> Self:
        train, test = split.by_name(self.validation, frame, HOLDOUT, self.random_state)
        progress(f"hybrid: fitting {self.model} on the validation split")
        base = {"lam": self.lam, "n_neighbors": self.n_neighbors, "weighting": "log"}
        implicit = selection.make(self.model, {**base, **self.model_params}, self.random_state)
        signals = Signals.learn(train, embeddings, implicit)
        test = test[test["item_id"].isin(signals.index.item_ids)]
        self.weights, self.metrics = {"0": dict(ONLY_POPULAR)}, {}
        progress("hybrid: choosing the popularity half-life")
        self.choose_half_life(signals, train, test)
        large = len(signals.index.item_ids) > selection.EASE_AUTO_MAX_ITEMS
        grid = simplex(max(self.step, LARGE_STEP) if large else self.step)
        for bucket, (length, least) in BUCKETS.items():
            progress(f"hybrid: weights for histories of {bucket}")
            users = self.users(train, test, least)
            if len(users) == 0:
                continue
            weights, metrics = self.fit_bucket(signals, train, test, users, length, grid)
            self.weights[bucket], self.metrics[bucket] = weights, metrics
            switched = [s for s in SOURCES if s != recommenders.FALLBACK]
            strongest = sorted(switched, key=lambda s: -metrics[f"ndcg_at_10_{s}"])
            self.switching[bucket] = strongest
        return self

    def choose_half_life(self, signals: Signals, train: pd.DataFrame, test: pd.DataFrame) -> None:
        """The half-life under which `popular` alone ranks the held-out items best."""
        users = self.users(train, test, 1)
        if len(users) == 0:
            return
        mine = train[train["user_id"].isin(users)]
        seen = signals.cells(mine, users, np.ones(len(mine))) > 0
        asked = test[test["user_id"].isin(users)]
        relevant = signals.cells(asked, users, np.ones(len(asked)))
        grid = {}
        for days in HALF_LIVES_DAYS:
            popularity = decayed(train, signals.index, days * 86_400.0)
            scores = np.tile(popularity, (len(users), 1))
            scores[seen.nonzero()] = -np.inf
            grid[days] = ndcg_at_k(scores, relevant)
        self.half_life_days = max(grid, key=lambda d: grid[d])
        signals.popularity = decayed(train, signals.index, self.half_life_days * 86_400.0)
        self.metrics["popularity"] = {
            "half_life_days": self.half_life_days,
            "ndcg_at_10": grid[self.half_life_days],
            "grid": {f"{d:g}": v for d, v in grid.items()},
        }

    def users(self, train: pd.DataFrame, test: pd.DataFrame, least: int) -> np.ndarray:
        sizes = train.groupby("user_id").size()
        users = np.intersect1d(sizes[sizes >= least].index.to_numpy(), test["user_id"].unique())
        n_items = train["item_id"].nunique()
        return selection.sampled(users, n_items, self.random_state, self.max_users)

    def fit_bucket(
        self,
        signals: Signals,
        train: pd.DataFrame,
        test: pd.DataFrame,
        users: np.ndarray,
        length: int | None,
        weight_grid: list[dict[str, float]],
    ) -> tuple[dict[str, float], dict[str, Any]]:
        seen = train[train["user_id"].isin(users)]
        latest = seen.sort_values("ts", ascending=False).groupby("user_id")
        history = latest.head(length or len(seen))
        asked = test[test["user_id"].isin(users)]
        pool = Candidates.of(signals, history, seen, asked, users, self.candidates)
        grid = [(pool.ndcg(w), w) for w in weight_grid]
        best, weights = max(grid, key=lambda pair: pair[0])
        singles = {s: pool.ndcg({**dict.fromkeys(SOURCES, 0.0), s: 1.0}) for s in SOURCES}
        metrics = {
            "users": len(users),
            "history": length or "all",
            "weights": weights,
            "ndcg_at_10": best,
            "weight_grid": len(weight_grid),
        }
        return weights, metrics | {f"ndcg_at_10_{s}": v for s, v in singles.items()}

    def params(self) -> dict[str, Any]:
        return {
            "candidates": self.candidates,
            "step": self.step,
            "min_history": self.min_history,
            "validation": self.validation,
            "model": self.model,
            "model_params": self.model_params,
            "half_life_days": self.half_life_days,
            "weights": self.weights,
            "switching": self.switching,
        }
