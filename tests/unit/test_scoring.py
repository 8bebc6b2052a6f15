"""Scoring a set of lists: history buckets and the per-strategy figures."""

import pandas as pd
import pytest

from app.evaluation import scoring

TRAIN = pd.DataFrame(
    {
        "user_id": ["u1"] * 3 + ["u2"] * 25,
        "item_id": ["a", "b", "c"] + [f"i{n}" for n in range(25)],
        "value": 1.0,
        "ts": 0.0,
    }
)
TEST = pd.DataFrame({"user_id": ["u1", "u2"], "item_id": ["d", "a"], "value": 1.0, "ts": 1.0})


@pytest.mark.parametrize(
    ("length", "label"), [(1, "1-4"), (4, "1-4"), (5, "5-19"), (20, "20-49"), (250, "200+")]
)
def test_history_buckets(length, label):
    assert scoring.bucket(length) == label


def test_score_and_ndcg_by_history():
    ctx = scoring.Context.of(TRAIN, TEST, 2, ["a", "b", "c", "d"], {})
    figures, ndcg = scoring.score({"u1": ["d", "x"], "u2": ["b", "c"]}, ctx)
    assert figures["ndcg"] == 0.5 and figures["hit_rate"] == 0.5 and figures["users"] == 2
    assert figures["diversity"] is None  # no embeddings
    assert figures["coverage"] == 3 / 29  # d, b, c of a, b, c, d and i0..i24
    rows = scoring.by_history({"mine": ndcg}, ctx)
    assert rows == {"1-4": {"mine": 1.0, "users": 1}, "20-49": {"mine": 0.0, "users": 1}}
