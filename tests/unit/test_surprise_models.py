"""Model properties on tiny fixed data (fixed random_state), not exact floats."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from app.evaluation import metrics, split
from app.training import data
from app.training.neighbors import EASE, ItemKNN, ease_weights, top_per_row
from app.training.surprise_models import MatrixFactorization
from tests.support.training import taste_ratings, views_of_groups


def frame_of(events) -> pd.DataFrame:
    rows = [
        (hash(u) % 10**6, hash(i) % 10**6, v if v else 1.0, ts.timestamp())
        for u, i, _, v, ts in events
    ]
    return pd.DataFrame(rows, columns=data.COLUMNS)


@pytest.mark.parametrize("kind", ["svd", "svdpp"])
def test_factor_models_beat_the_global_mean(kind):
    train, test = split.kfold(frame_of(taste_ratings()), 5, seed=0)[0]
    params = {"n_factors": 4, "n_epochs": 100, "lr_all": 0.02, "reg_all": 0.05}
    model = MatrixFactorization(kind, random_state=0, params=params)
    fitted = model.fit(train).model
    predicted = fitted.predict(test["user_id"].to_numpy(), test["item_id"].to_numpy())
    truth = test["value"].to_numpy()
    assert metrics.rmse(truth, predicted) < 0.8 * metrics.rmse(
        truth, np.full(len(truth), train["value"].mean())
    )


def test_fit_returns_self_and_is_reproducible():
    frame = frame_of(taste_ratings())
    first = MatrixFactorization("svd", random_state=1, params={"n_factors": 3})
    assert first.fit(frame) is first
    second = MatrixFactorization("svd", random_state=1, params={"n_factors": 3}).fit(frame)
    assert np.array_equal(first.model.item_factors, second.model.item_factors)
    third = MatrixFactorization("svd", random_state=2, params={"n_factors": 3}).fit(frame)
    assert not np.array_equal(first.model.item_factors, third.model.item_factors)


def test_unknown_user_or_item_falls_back_to_baselines_within_the_scale():
    fitted = (
        MatrixFactorization("svd", params={"n_factors": 3}).fit(frame_of(taste_ratings())).model
    )
    user, item = fitted.index.user_ids[0], fitted.index.item_ids[0]
    ratings = fitted.predict(np.array([user, -1, user, -1]), np.array([item, item, -1, -1]))
    assert ratings[1] == pytest.approx(np.clip(fitted.global_mean + fitted.item_bias[0], 1, 5))
    assert ratings[2] == pytest.approx(np.clip(fitted.global_mean + fitted.user_bias[0], 1, 5))
    assert ratings[3] == pytest.approx(fitted.global_mean)
    assert np.all((ratings >= 1) & (ratings <= 5))


def test_ease_matches_the_closed_form_and_has_a_zero_diagonal():
    rng = np.random.default_rng(0)
    x = (rng.random((30, 6)) < 0.4).astype(float)
    b = ease_weights(__import__("scipy").sparse.csr_matrix(x), lam=2.0)
    assert np.allclose(np.diag(b), 0)
    p = np.linalg.inv(x.T @ x + 2.0 * np.eye(6))
    expected = np.eye(6) - p / np.diag(p)
    np.fill_diagonal(expected, 0)
    assert np.allclose(b, expected)


def test_top_per_row_keeps_the_entries_of_largest_magnitude():
    dense = np.array([[0.0, 3.0, -1.0, 2.0], [1.0, 0.0, 0.5, -2.0]])
    kept = top_per_row(dense, 2).toarray()
    assert kept.tolist() == [[0.0, 3.0, 0.0, 2.0], [1.0, 0.0, 0.0, -2.0]]


@pytest.mark.parametrize("model", [EASE(lam=1.0, n_neighbors=5), ItemKNN(n_neighbors=5, chunk=3)])
def test_item_models_keep_neighbours_within_a_taste_group(model):
    frame = frame_of(views_of_groups())
    neighbors = model.fit(frame).model.frame(run_id=1)
    ids = {hash(i) % 10**6: i for i in [f"a{n}" for n in range(8)] + [f"b{n}" for n in range(8)]}
    positive = neighbors[neighbors["score"] > 0]
    groups = {(ids[r.item_id][0], ids[r.neighbor_id][0]) for r in positive.itertuples()}
    assert groups == {("a", "a"), ("b", "b")}
    assert neighbors.groupby("item_id").size().max() <= 5


def test_hybrid_weights_validate_on_the_split_they_are_told():
    from app.training.hybrid import HybridWeights

    frame = frame_of(views_of_groups())
    with pytest.raises(ValueError, match="unknown split 'bogus'"):
        HybridWeights(validation="bogus").fit(frame, {})
    fitted = HybridWeights(validation="random", random_state=1).fit(frame, {})
    assert fitted.params()["validation"] == "random"
    assert HybridWeights(**fitted.params()).validation == "random"


def test_hybrid_weights_search_a_coarser_simplex_past_eases_size(monkeypatch):
    from app.training import hybrid, selection

    frame = frame_of(views_of_groups())
    fine = hybrid.HybridWeights(validation="random", random_state=1).fit(frame, {})
    monkeypatch.setattr(selection, "EASE_AUTO_MAX_ITEMS", 4)
    coarse = hybrid.HybridWeights(validation="random", random_state=1).fit(frame, {})
    buckets = [b for b in hybrid.BUCKETS if b in fine.metrics]
    assert buckets
    for bucket in buckets:
        assert fine.metrics[bucket]["weight_grid"] == len(hybrid.simplex(0.1)) == 286
        assert coarse.metrics[bucket]["weight_grid"] == len(hybrid.simplex(0.2)) == 56
        assert all(round(w * 5, 6).is_integer() for w in coarse.weights[bucket].values())


def test_content_embeddings_of_fitted_items_equal_a_fresh_transform():
    from app.training.content import ItemText, TfidfEncoder

    items = [ItemText(f"red shoe {n}", "a shoe", ["shoes"], {"size": n % 3}) for n in range(6)] + [
        ItemText(f"blue hat {n}", "a hat", ["hats"]) for n in range(6)
    ]
    encoder = TfidfEncoder(dims=4).fit(items)
    fresh = TfidfEncoder.stored(encoder.config(), encoder.terms, encoder.idf, encoder.components)
    assert not fresh.fitted and len(encoder.fitted) == len(items)
    unseen = [ItemText("red hat", "a shoe and a hat", ["hats"]), ItemText()]
    asked = items + unseen
    assert np.allclose(encoder.transform(asked), fresh.transform(asked))
