"""RP3beta (Paudel et al. 2017): three-step random walks item -> user -> item,
the arrival probability damped by the target's popularity, kept as each item's
top-N neighbours so `recsys.neighbor_scores` serves it like EASE.

W(i, j) = sum_u P(u | i)^alpha * P(j | u)^alpha / deg(j)^beta, with P the
row-normalised binary user x item matrix and its transpose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np
import pandas as pd
from scipy import sparse

from app.training import data
from app.training.neighbors import N_NEIGHBORS, Neighbors, top_per_row

ALPHA, BETA = 1.0, 0.5
CHUNK = 2_000


def row_normalised(x: sparse.csr_matrix, power: float) -> sparse.csr_matrix:
    """Rows divided by their sums, each entry raised to `power`."""
    sums = np.asarray(x.sum(axis=1)).ravel()
    out = sparse.diags(1 / np.maximum(sums, 1e-12)) @ x
    out = sparse.csr_matrix(out)
    out.data = np.power(out.data, power)
    return out


def dense_chunk(chunk: int, n_users: int) -> int:
    """Items per block, so a block's dense items x users slice stays near 160 MB."""
    return max(64, min(chunk, 20_000_000 // max(n_users, 1)))


def popularity_damping(x: sparse.csr_matrix, beta: float) -> np.ndarray:
    degree = np.asarray(x.sum(axis=0)).ravel()
    damping: np.ndarray = np.power(np.maximum(degree, 1.0), -beta)
    return damping


def rp3beta_scorer(x: sparse.csr_matrix, alpha: float, beta: float) -> Any:
    """Untruncated RP3beta scores of history rows, without the items x items matrix."""
    x = sparse.csr_matrix(x, dtype=np.float64)
    x.data[:] = 1.0
    p_ui = row_normalised(x, alpha)
    p_iu = row_normalised(sparse.csr_matrix(x.T), alpha)
    to_items, damp = sparse.csr_matrix(p_ui.T), popularity_damping(x, beta)

    def scores(history: sparse.csr_matrix) -> np.ndarray:
        via_users = (history @ p_iu).toarray()
        result: np.ndarray = (to_items @ via_users.T).T * damp
        return result

    return scores


def rp3beta_weights(
    x: sparse.csr_matrix, alpha: float, beta: float, n_neighbors: int, chunk: int = CHUNK
) -> sparse.csr_matrix:
    """Items x items top-n weights of RP3beta on a binary users x items matrix."""
    x = sparse.csr_matrix(x, dtype=np.float64)
    x.data[:] = 1.0
    p_ui = row_normalised(x, alpha)
    p_iu = row_normalised(sparse.csr_matrix(x.T), alpha)
    damp = popularity_damping(x, beta)
    blocks = []
    to_items = sparse.csr_matrix(p_ui.T)
    chunk = dense_chunk(chunk, x.shape[0])
    for start in range(0, p_iu.shape[0], chunk):
        # Sparse x dense: a sparse product would build a mostly dense result slowly.
        block = np.ascontiguousarray((to_items @ p_iu[start : start + chunk].toarray().T).T) * damp
        rows = np.arange(block.shape[0])
        block[rows, rows + start] = 0.0
        blocks.append(top_per_row(block, n_neighbors))
    return sparse.csr_matrix(sparse.vstack(blocks))


@dataclass
class RP3beta:
    """Graph-based item-item model; fit returns self (surprise's convention)."""

    alpha: float = ALPHA
    beta: float = BETA
    n_neighbors: int = N_NEIGHBORS
    # How the user's live history weighs each item at serving (recsys.neighbor_scores).
    weighting: str = "binary"
    model: Neighbors | None = field(default=None, init=False)

    def fit(self, frame: pd.DataFrame) -> Self:
        index = data.Index.of(frame)
        x = data.matrix(frame, index, "binary")
        weights = rp3beta_weights(x, self.alpha, self.beta, self.n_neighbors)
        self.model = Neighbors(index, weights)
        return self
