"""Item-to-item models for implicit feedback, kept as each item's top-N neighbours.

`recsys.neighbor_scores` serves them: a user's score for item j is the sum over
the user's live interactions i of weight(i) * score(i, j).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Self

import numpy as np
import pandas as pd
from scipy import sparse

from app.training import data

# Beyond this many items the dense item x item Gram matrix (8 bytes a cell) of
# EASE stops fitting comfortably in memory: 20k items = 3.2 GB; use item_knn.
EASE_MAX_ITEMS = 20_000
# Neighbours kept per item, and EASE's L2 penalty (tuned on ml-100k, docs/models.md).
N_NEIGHBORS = 100
EASE_LAMBDA = 500.0


@dataclass
class Neighbors:
    """Sparse item x item weights: row i holds item i's kept neighbours."""

    index: data.Index
    weights: sparse.csr_matrix

    def frame(self, run_id: int) -> pd.DataFrame:
        """(run_id, item_id, neighbor_id, score) rows for COPY."""
        coo = self.weights.tocoo()
        return pd.DataFrame(
            {
                "run_id": run_id,
                "item_id": self.index.item_ids[coo.row],
                "neighbor_id": self.index.item_ids[coo.col],
                "score": coo.data.astype(np.float32),
            }
        )

    def scores(self, history: sparse.csr_matrix) -> np.ndarray:
        """Dense users x items scores of histories laid out on this index."""
        return np.asarray((history @ self.weights).todense())


def top_per_row(dense: np.ndarray, n: int) -> sparse.csr_matrix:
    """Keep each row's n entries of largest magnitude. EASE's negative weights
    carry signal too: dropping them cost 5% of NDCG@10 on ml-100k (docs/models.md)."""
    n = min(n, dense.shape[1])
    cols = np.argpartition(-np.abs(dense), n - 1, axis=1)[:, :n].ravel()
    rows = np.repeat(np.arange(dense.shape[0]), n)
    values = dense[rows, cols]
    keep = values != 0
    return sparse.csr_matrix((values[keep], (rows[keep], cols[keep])), shape=dense.shape)


def ease_weights(x: sparse.csr_matrix, lam: float) -> np.ndarray:
    """EASE (Steck 2019), closed form: P = (X'X + lam I)^-1, B = I - P / diag(P)."""
    gram = np.asarray((x.T @ x).todense(), dtype=np.float64)
    gram[np.diag_indices_from(gram)] += lam
    p = np.linalg.inv(gram)
    b = -p / np.diag(p)
    np.fill_diagonal(b, 0.0)
    return b


@dataclass
class EASE:
    """Embarrassingly shallow autoencoder; fit returns self (surprise's convention)."""

    lam: float = EASE_LAMBDA
    n_neighbors: int = N_NEIGHBORS
    weighting: str = "log"
    model: Neighbors | None = field(default=None, init=False)

    def fit(self, frame: pd.DataFrame) -> Self:
        index = data.Index.of(frame)
        b = ease_weights(data.matrix(frame, index, self.weighting), self.lam)
        self.model = Neighbors(index, top_per_row(b, self.n_neighbors))
        return self


@dataclass
class ItemKNN:
    """Cosine item-kNN on the sparse matrix, for catalogues too large for EASE."""

    n_neighbors: int = N_NEIGHBORS
    weighting: str = "log"
    chunk: int = 2_000
    model: Neighbors | None = field(default=None, init=False)

    def fit(self, frame: pd.DataFrame) -> Self:
        index = data.Index.of(frame)
        x = data.matrix(frame, index, self.weighting).tocsc()
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=0))).ravel()
        xn = (x @ sparse.diags(1 / np.maximum(norms, 1e-12))).tocsc()
        blocks = []
        to_items = sparse.csr_matrix(xn.T)
        chunk = max(64, min(self.chunk, 20_000_000 // max(xn.shape[0], 1)))
        for start in range(0, xn.shape[1], chunk):
            # Sparse x dense: a sparse product would build a mostly dense result slowly.
            sims = (to_items @ xn[:, start : start + chunk].toarray()).T
            sims[np.arange(sims.shape[0]), np.arange(start, start + sims.shape[0])] = 0
            sims = np.ascontiguousarray(sims)
            blocks.append(top_per_row(sims, self.n_neighbors))
        self.model = Neighbors(index, sparse.vstack(blocks).tocsr())
        return self
