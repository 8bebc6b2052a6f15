"""Train/test splits of a (user_id, item_id, value, ts) frame."""

from __future__ import annotations

import numpy as np
import pandas as pd


def temporal(frame: pd.DataFrame, holdout: float = 0.2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each user's latest `holdout` share of rows (by ts, at least one row kept
    for training) becomes the test set: the future is predicted from the past."""
    ordered = frame.sort_values(["user_id", "ts", "item_id"], kind="stable")
    rank = ordered.groupby("user_id").cumcount()
    size = ordered.groupby("user_id")["item_id"].transform("size")
    n_test = np.floor(size * holdout).astype(int)
    is_test = rank >= size - n_test
    return ordered[~is_test], ordered[is_test]


def kfold(frame: pd.DataFrame, folds: int, seed: int) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    """Random k-fold over rows, as surprise's KFold(shuffle=True)."""
    order = np.random.default_rng(seed).permutation(len(frame))
    parts = np.array_split(order, folds)
    return [
        (frame.iloc[np.concatenate(parts[:i] + parts[i + 1 :])], frame.iloc[parts[i]])
        for i in range(folds)
    ]
