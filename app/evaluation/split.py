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


def random_per_user(
    frame: pd.DataFrame, holdout: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-user stratified random split (Microsoft Recommenders' python_stratified_split):
    each user's rows are shuffled and `floor(n * holdout)` of them held out,
    at least one kept for training. The same seed gives the same split."""
    # Sorted first so the split does not depend on the order rows arrived in.
    ordered = frame.sort_values(["user_id", "item_id"], kind="stable")
    shuffled = ordered.iloc[np.random.default_rng(seed).permutation(len(ordered))]
    rank = shuffled.groupby("user_id").cumcount()
    size = shuffled.groupby("user_id")["item_id"].transform("size")
    n_test = np.minimum(np.floor(size * holdout), size - 1).astype(int)
    is_test = rank < n_test
    return _restore(ordered, shuffled[~is_test]), _restore(ordered, shuffled[is_test])


def leave_last_out(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each user's latest row (by ts) is the test set; users with one row only train."""
    ordered = frame.sort_values(["user_id", "ts", "item_id"], kind="stable")
    rank = ordered.groupby("user_id").cumcount()
    size = ordered.groupby("user_id")["item_id"].transform("size")
    is_test = (rank == size - 1) & (size > 1)
    return ordered[~is_test], ordered[is_test]


SPLITS = ("temporal", "random", "leave-last-out")


def by_name(
    name: str, frame: pd.DataFrame, holdout: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One of SPLITS; `holdout` is ignored by leave-last-out, `seed` by all but random."""
    if name == "temporal":
        return temporal(frame, holdout)
    if name == "random":
        return random_per_user(frame, holdout, seed)
    if name == "leave-last-out":
        return leave_last_out(frame)
    raise ValueError(f"unknown split {name!r}; choose from {', '.join(SPLITS)}")


def _restore(ordered: pd.DataFrame, part: pd.DataFrame) -> pd.DataFrame:
    """`part` in the (user, item) order of `ordered`."""
    return ordered.loc[ordered.index.isin(part.index)]
