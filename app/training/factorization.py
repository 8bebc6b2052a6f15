"""Implicit-feedback matrix factorisation from the `implicit` library (ALS and
BPR), served as item neighbours so every strategy applies it to *live* history.

A user's factors are the ridge fold-in of their history h onto the item
factors Y: x_u = (Y'Y + reg I)^-1 Y' h, so the score of item j is
h . W(:, j) with W = Y (Y'Y + reg I)^-1 Y'. For ALS with uniform confidence this
is exactly the user step of the solver; with confidence weights, and for BPR,
it is the least-squares projection. Each item keeps its top-N entries of W by
magnitude in recsys.item_neighbors: an event recorded after training changes
the list at once, and validation scores this stored form, not the raw factors.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np
import pandas as pd
from scipy import sparse

from app.training import data
from app.training.neighbors import N_NEIGHBORS, Neighbors, top_per_row

CHUNK = 2_000
DEFAULTS: dict[str, dict[str, Any]] = {
    "als": {"factors": 64, "regularization": 0.05, "alpha": 2.0, "iterations": 15},
    "bpr": {"factors": 64, "learning_rate": 0.05, "regularization": 0.01, "iterations": 100},
}

# While a validation grid runs (reuse_fits): item factors already fitted on the
# same frame with the same settings. The grid varies the fold-in ridge, which
# does not change the factors, so each ALS/BPR fit serves two grid points.
_fitted: list[tuple[pd.DataFrame, tuple[Any, ...], np.ndarray]] | None = None


@contextmanager
def reuse_fits() -> Iterator[None]:
    """Within the block, a fit repeated on the same frame is reused, not redone."""
    global _fitted
    _fitted = []
    try:
        yield
    finally:
        _fitted = None


def fold_in_left(items: np.ndarray, reg: float) -> np.ndarray:
    """Y (Y'Y + r I)^-1, r = reg x mean(diag Y'Y): W = left @ Y'."""
    y = np.asarray(items, dtype=np.float64)
    gram = y.T @ y
    gram[np.diag_indices_from(gram)] += reg * np.trace(gram) / len(gram)
    left: np.ndarray = y @ np.linalg.inv(gram)
    return left


def fold_in_weights(
    items: np.ndarray, reg: float, n_neighbors: int, chunk: int = CHUNK
) -> sparse.csr_matrix:
    """Top-n per row of W = Y (Y'Y + r I)^-1 Y', r = reg x mean(diag Y'Y), diagonal zeroed."""
    # The ridge is relative to the factors' mean squared norm: one grid fits every scale.
    y = np.asarray(items, dtype=np.float64)
    left = fold_in_left(y, reg)
    blocks = []
    for start in range(0, y.shape[0], chunk):
        block = left[start : start + chunk] @ y.T
        rows = np.arange(block.shape[0])
        block[rows, rows + start] = 0.0
        blocks.append(top_per_row(block, n_neighbors))
    return sparse.csr_matrix(sparse.vstack(blocks))


def fit_factors(kind: str, x: sparse.csr_matrix, params: dict[str, Any], seed: int) -> np.ndarray:
    """The item factors `implicit` learns from a users x items matrix."""
    # implicit warns (and slows down) when BLAS threads compete with its own.
    from implicit.als import AlternatingLeastSquares
    from implicit.bpr import BayesianPersonalizedRanking
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, "blas"):
        if kind == "als":
            model: Any = AlternatingLeastSquares(
                factors=params["factors"],
                regularization=params["regularization"],
                alpha=params["alpha"],
                iterations=params["iterations"],
                random_state=seed,
                calculate_training_loss=False,
            )
        else:
            model = BayesianPersonalizedRanking(
                factors=params["factors"],
                learning_rate=params["learning_rate"],
                regularization=params["regularization"],
                iterations=params["iterations"],
                random_state=seed,
            )
        model.fit(sparse.csr_matrix(x, dtype=np.float32), show_progress=False)
    factors: np.ndarray = np.asarray(model.item_factors, dtype=np.float64)
    return factors


@dataclass
class ImplicitMF:
    """ALS or BPR; fit returns self (surprise's convention)."""

    kind: str = "als"
    params: dict[str, Any] = field(default_factory=dict)
    n_neighbors: int = N_NEIGHBORS
    # How the history weighs each item, in training and at serving.
    weighting: str = "log"
    # Ridge of the fold-in; also what recsys.neighbor_scores' weights assume.
    fold_in: float = 1.0
    random_state: int = 0
    model: Neighbors | None = field(default=None, init=False)

    def fit(self, frame: pd.DataFrame) -> Self:
        index = data.Index.of(frame)
        self.model = Neighbors(
            index, fold_in_weights(self.factors(frame, index), self.fold_in, self.n_neighbors)
        )
        return self

    def factors(self, frame: pd.DataFrame, index: data.Index) -> np.ndarray:
        params = {**DEFAULTS[self.kind], **self.params}
        key = (self.kind, sorted(params.items()), self.weighting, self.random_state)
        for seen, settings, factors in _fitted or []:
            if seen is frame and settings == key:
                return factors
        x = data.matrix(frame, index, self.weighting)
        factors = fit_factors(self.kind, x, params, self.random_state)
        if _fitted is not None:
            _fitted.append((frame, key, factors))
        return factors

    def scorer(self, frame: pd.DataFrame, index: data.Index) -> Any:
        """Untruncated fold-in scores of history rows (validation on large catalogues)."""
        y = self.factors(frame, index)
        left = fold_in_left(y, self.fold_in)
        return lambda history: np.asarray(history @ left) @ y.T
