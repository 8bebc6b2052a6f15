"""RP3beta, ALS / BPR folded into item neighbours, and the validation that
chooses their tunables: properties on tiny synthetic data, no database."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from app.training import selection
from app.training.factorization import ImplicitMF, fold_in_weights
from app.training.graph import RP3beta, rp3beta_weights


def two_tastes(users: int = 60, items: int = 20, seed: int = 0) -> pd.DataFrame:
    """Even users choose among the first half of the items, odd users the second."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(users):
        pool = np.arange(items // 2) + (0 if u % 2 == 0 else items // 2)
        for n, item in enumerate(rng.choice(pool, 6, replace=False)):
            rows.append((u, int(item), 1.0, float(u * 100 + n)))
    return pd.DataFrame(rows, columns=["user_id", "item_id", "value", "ts"])


def same_half(weights: sparse.csr_matrix, items: int = 20) -> float:
    """Share of the positive weight that stays within an item's own half."""
    coo = weights.tocoo()
    positive = coo.data > 0
    inside = (coo.row < items // 2) == (coo.col < items // 2)
    return float(coo.data[positive & inside].sum() / coo.data[positive].sum())


@pytest.mark.parametrize(
    "model",
    [RP3beta(0.5, 0.3, 5), ImplicitMF("als", {"factors": 4, "iterations": 10}, 5, "log", 0.1)],
)
def test_neighbours_stay_within_a_taste(model) -> None:
    fitted = model.fit(two_tastes()).model
    assert fitted is not None
    assert fitted.weights.diagonal().sum() == 0
    assert (fitted.weights.getnnz(axis=1) <= 5).all()
    assert same_half(fitted.weights) > 0.9


def test_bpr_trains_and_is_served_as_neighbours() -> None:
    model = ImplicitMF("bpr", {"factors": 4, "iterations": 50}, 5, "binary", 0.1, random_state=1)
    fitted = model.fit(two_tastes()).model
    assert fitted is not None and fitted.weights.nnz > 0


def test_rp3beta_beta_damps_popular_targets() -> None:
    # Item 0 is in every history: a larger beta lowers what others give it.
    x = sparse.csr_matrix(np.array([[1, 1, 0], [1, 0, 1], [1, 1, 1], [1, 0, 1]], dtype=float))
    low, high = (rp3beta_weights(x, 1.0, beta, 3).toarray() for beta in (0.0, 0.8))
    assert high[1, 0] / high[1, 2] < low[1, 0] / low[1, 2]


def test_fold_in_reproduces_the_ridge_projection() -> None:
    y = np.random.default_rng(2).normal(size=(6, 3))
    w = fold_in_weights(y, 0.5, 6).toarray()
    gram = y.T @ y
    expected = y @ np.linalg.inv(gram + 0.5 * np.trace(gram) / 3 * np.eye(3)) @ y.T
    np.fill_diagonal(expected, 0)
    assert np.allclose(w, expected)


def test_validation_picks_the_best_configuration_and_records_the_grid() -> None:
    frame = two_tastes()
    kind, params, metrics = selection.choose(["rp3beta"], frame, {"rp3beta": {}}, "temporal")
    assert kind == "rp3beta" and metrics["chosen_by"] == "validation"
    tried = metrics["grid"]
    assert len(tried) == len(selection.GRIDS["rp3beta"]) + len(selection.SIZES) - 1
    best = max(tried, key=lambda row: row["ndcg_at_10"])
    assert metrics["ndcg_at_10"] == best["ndcg_at_10"]
    assert params == {"n_neighbors": 100, **best["params"]}


def test_fixed_params_are_not_searched() -> None:
    fixed = {"ease": {"lam": 7.0, "n_neighbors": 3}}
    _, params, metrics = selection.choose(["ease"], two_tastes(), fixed, "random", seed=3)
    assert params["lam"] == 7.0 and params["n_neighbors"] == 3
    assert {row["params"]["lam"] for row in metrics["grid"]} == {7.0}


def test_ease_leaves_the_candidates_past_its_measured_size() -> None:
    assert "ease" in selection.candidates(selection.AUTO, selection.EASE_AUTO_MAX_ITEMS)
    assert "ease" not in selection.candidates(selection.AUTO, selection.EASE_AUTO_MAX_ITEMS + 1)


def test_large_catalogues_validate_untruncated_scores_that_match_the_full_lists(
    monkeypatch,
) -> None:
    frame = two_tastes()
    x = sparse.csr_matrix(
        (np.ones(len(frame)), (frame["user_id"], frame["item_id"])), shape=(60, 20)
    )
    full = (x @ rp3beta_weights(x, 0.5, 0.3, 20)).toarray()
    fast = selection.rp3beta_scorer(x, 0.5, 0.3)(x)
    unseen = x.toarray() == 0
    assert np.allclose(full[unseen], fast[unseen])
    monkeypatch.setattr(selection, "EASE_AUTO_MAX_ITEMS", 5)
    for kind in ("rp3beta", "item_knn", "als"):
        _, params, metrics = selection.choose([kind], frame, {}, "temporal")
        assert metrics["ndcg_at_10"] > 0.3, kind  # two tastes: far above chance
        assert params["n_neighbors"] == 100  # no list-size stage past the threshold
        assert len(metrics["grid"]) == len(selection.GRIDS[kind])


def test_validation_scores_a_seeded_sample_of_users_past_its_budget(monkeypatch) -> None:
    frame = two_tastes()
    whole = selection.Validation.of(frame, "temporal", seed=0)
    assert whole.test["user_id"].nunique() == 60 and "users scored" not in whole.label
    monkeypatch.setattr(selection, "VALIDATION_CELLS", 20 * 25)  # 25 users of 20 items
    part = selection.Validation.of(frame, "temporal", seed=0)
    again = selection.Validation.of(frame, "temporal", seed=0)
    assert part.test["user_id"].nunique() == 25 and "25 users scored" in part.label
    assert part.test.equals(again.test)  # the same seed, the same users
    assert len(part.train) == len(whole.train)  # fitted on every user still
    _, _, metrics = selection.choose(["item_knn"], frame, {}, "temporal")
    assert metrics["split"].endswith("25 users scored") and metrics["ndcg_at_10"] > 0.3
    users = np.arange(100)
    assert len(selection.sampled(users, 20, 0, most=10)) == 10  # the caller's cap too
