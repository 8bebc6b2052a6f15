"""Direct baselines: ties, seen items, EASE against a hand-built solution."""

import numpy as np
import pandas as pd

from app.evaluation import baselines

TRAIN = pd.DataFrame(
    {
        "user_id": ["u1", "u1", "u2", "u2", "u3", "u3", "u3"],
        "item_id": ["a", "b", "a", "c", "b", "c", "d"],
        "value": [1.0] * 7,
        "ts": [0.0] * 7,
    }
)


def test_top_k_breaks_ties_by_position_and_skips_seen():
    scores = np.array([[1.0, 3.0, 3.0, 2.0]])
    seen = np.array([[False, False, True, False]])
    assert baselines.top_k(scores, seen, 3).tolist() == [[1, 3, 0]]
    # Ties only: the lower position first.
    assert baselines.top_k(np.zeros((1, 4)), np.zeros((1, 4), bool), 2).tolist() == [[0, 1]]


def test_top_k_marks_missing_slots_when_too_few_unseen():
    seen = np.array([[True, True, False]])
    assert baselines.top_k(np.ones((1, 3)), seen, 3).tolist() == [[2, -1, -1]]


def test_most_popular_excludes_seen_and_ties_go_to_the_lower_id():
    lists = baselines.popular_lists(TRAIN, ["u1", "u3"], 2)
    # Users per item: a 2, b 2, c 2, d 1.
    assert lists == {"u1": ["c", "d"], "u3": ["a"]}


def test_random_lists_are_reproducible_by_seed():
    one = baselines.random_lists(TRAIN, ["u1", "u2", "u3"], 2, seed=1)
    assert one == baselines.random_lists(TRAIN, ["u1", "u2", "u3"], 2, seed=1)
    assert all(not set(items) & set(TRAIN[TRAIN.user_id == u].item_id) for u, items in one.items())


def test_ease_matches_the_closed_form():
    x = np.array([[1, 1, 0, 0], [1, 0, 1, 0], [0, 1, 1, 1]], dtype=float)
    p = np.linalg.inv(x.T @ x + 2.0 * np.eye(4))
    b = -p / np.diag(p)
    np.fill_diagonal(b, 0)
    scores = x @ b
    best = int(np.argmax(np.where(x[0] > 0, -np.inf, scores[0])))
    lists = baselines.ease_lists(TRAIN, ["u1"], 1, 2.0, "binary")
    assert lists == {"u1": [["a", "b", "c", "d"][best]]}


def test_tuning_scores_every_grid_point():
    tuned = baselines.tune_ease(TRAIN, "leave-last-out", 0.2, 0, 2)
    assert len(tuned["grid"]) == len(baselines.LAMBDAS) * len(baselines.WEIGHTINGS)
    assert tuned["lam"] in baselines.LAMBDAS and tuned["weighting"] in baselines.WEIGHTINGS
