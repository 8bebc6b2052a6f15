"""Splits: per user, disjoint, reproducible by seed."""

import pandas as pd
import pytest

from app.evaluation import split


def frame(sizes):
    rows = [
        {"user_id": f"u{u}", "item_id": f"i{i}", "value": 1.0, "ts": float(100 * u + i)}
        for u, n in enumerate(sizes)
        for i in range(n)
    ]
    return pd.DataFrame(rows)


def keys(part):
    return set(zip(part["user_id"], part["item_id"], strict=True))


def test_random_split_is_per_user_and_reproducible():
    data = frame([20, 8, 1])
    train, test = split.random_per_user(data, 0.25, seed=42)
    assert test.groupby("user_id").size().to_dict() == {
        "u0": 5,
        "u1": 2,
    }  # floor(n/4); u2 keeps its one
    assert keys(train) | keys(test) == keys(data) and not keys(train) & keys(test)
    _, again_test = split.random_per_user(data.sample(frac=1, random_state=3), 0.25, seed=42)
    assert keys(again_test) == keys(test)  # input order does not matter, the seed does
    _, other = split.random_per_user(data, 0.25, seed=7)
    assert keys(other) != keys(test)


def test_random_split_is_not_the_latest_items():
    train, test = split.random_per_user(frame([40]), 0.25, seed=42)
    assert test["ts"].max() > train["ts"].min() and test["ts"].min() < train["ts"].max()


def test_leave_last_out_holds_out_each_users_latest():
    data = frame([3, 1])
    train, test = split.leave_last_out(data)
    assert keys(test) == {("u0", "i2")}
    assert len(train) == 3


def test_temporal_holds_out_the_latest_share():
    _, test = split.by_name("temporal", frame([10]), 0.2, seed=0)
    assert set(test["item_id"]) == {"i8", "i9"}


def test_unknown_split_is_named():
    with pytest.raises(ValueError, match="unknown split 'weekly'"):
        split.by_name("weekly", frame([2]), 0.2, 0)
