"""Explicit ratings: scikit-surprise SVD / SVD++ reduced to biases and factors.

Both are served from tables by `recsys.predict` as
global_mean + b_u + b_i + p_u . q_i; for SVD++ the implicit term
|N(u)|^-1/2 * sum(y_j) is folded into p_u at training time, so the served
vector is exact for the ratings the model was trained on. KNNBaseline's
prediction needs every item pair's similarity and the user's rated neighbours,
which these tables do not hold: it is evaluation-only (see the benchmark).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np
import pandas as pd
from surprise import SVD, Dataset, Reader, SVDpp, Trainset

from app.training import data

# Tuned on ml-100k by 5-fold cross-validation (docs/models.md): RMSE 0.912
# against 0.934 for surprise's defaults.
DEFAULTS: dict[str, dict[str, Any]] = {
    "svd": {"n_factors": 150, "n_epochs": 60, "lr_all": 0.005, "reg_all": 0.1},
    "svdpp": {"n_factors": 20, "n_epochs": 20, "lr_all": 0.007, "reg_all": 0.02},
}
ALGORITHMS = {"svd": SVD, "svdpp": SVDpp}


@dataclass
class Factors:
    """Biases and factors on a dense index; row order follows `index`."""

    index: data.Index
    global_mean: float
    scale: tuple[float, float]
    user_bias: np.ndarray
    item_bias: np.ndarray
    user_factors: np.ndarray
    item_factors: np.ndarray

    def predict(self, user_ids: np.ndarray, item_ids: np.ndarray) -> np.ndarray:
        """Clipped predictions; unknown users or items get their baselines only."""
        u, i = (
            self._lookup(self.index.user_ids, user_ids),
            self._lookup(self.index.item_ids, item_ids),
        )
        known_u, known_i = u >= 0, i >= 0
        raw = np.full(len(u), self.global_mean)
        raw[known_u] += self.user_bias[u[known_u]]
        raw[known_i] += self.item_bias[i[known_i]]
        both = known_u & known_i
        raw[both] += np.einsum("ij,ij->i", self.user_factors[u[both]], self.item_factors[i[both]])
        clipped: np.ndarray = np.clip(raw, *self.scale)
        return clipped

    def scores(self, user_ids: np.ndarray) -> np.ndarray:
        """Top-N scores (item bias + dot product) of known users against every item."""
        u = self._lookup(self.index.user_ids, user_ids)
        scores: np.ndarray = self.user_factors[u] @ self.item_factors.T + self.item_bias
        return scores

    @staticmethod
    def _lookup(ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
        pos = np.searchsorted(ids, wanted)
        pos[pos >= len(ids)] = 0
        return np.where(ids[pos] == wanted, pos, -1)


@dataclass
class MatrixFactorization:
    """SVD or SVD++ from surprise; fit returns self."""

    kind: str = "svd"
    random_state: int = 0
    params: dict[str, Any] = field(default_factory=dict)
    model: Factors | None = field(default=None, init=False)

    def fit(self, frame: pd.DataFrame) -> Self:
        scale = (float(frame["value"].min()), float(frame["value"].max()))
        reader = Reader(rating_scale=scale)
        trainset = Dataset.load_from_df(
            frame[["user_id", "item_id", "value"]], reader
        ).build_full_trainset()
        params = {**DEFAULTS[self.kind], **self.params}
        algo = ALGORITHMS[self.kind](random_state=self.random_state, **params)
        algo.fit(trainset)
        self.model = extract(algo, trainset, scale)
        return self


def extract(algo: SVD | SVDpp, trainset: Trainset, scale: tuple[float, float]) -> Factors:
    """Biases and factors re-ordered from surprise's inner ids to sorted raw ids."""
    raw_users = np.array([trainset.to_raw_uid(u) for u in range(trainset.n_users)])
    raw_items = np.array([trainset.to_raw_iid(i) for i in range(trainset.n_items)])
    pu = np.asarray(algo.pu, dtype=np.float64)
    if isinstance(algo, SVDpp):
        pu = pu + implicit_term(algo, trainset)
    users, items = np.argsort(raw_users), np.argsort(raw_items)
    return Factors(
        index=data.Index(raw_users[users], raw_items[items]),
        global_mean=float(trainset.global_mean),
        scale=scale,
        user_bias=np.asarray(algo.bu)[users],
        item_bias=np.asarray(algo.bi)[items],
        user_factors=pu[users],
        item_factors=np.asarray(algo.qi, dtype=np.float64)[items],
    )


def implicit_term(algo: SVDpp, trainset: Trainset) -> np.ndarray:
    """|N(u)|^-1/2 * sum of y_j over the items u rated, for every user."""
    yj = np.asarray(algo.yj, dtype=np.float64)
    out = np.zeros((trainset.n_users, yj.shape[1]))
    for u, rated in trainset.ur.items():
        items = [j for j, _ in rated]
        out[u] = yj[items].sum(axis=0) / np.sqrt(len(items))
    return out
