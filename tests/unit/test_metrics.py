"""Ranking metrics against hand-computed cases."""

import math

import pytest

from app.evaluation import metrics

D = [1 / math.log2(i + 2) for i in range(10)]  # discount of rank i+1


def test_hits_at_ranks_one_and_three():
    ranked, relevant = ["a", "x", "b", "y"], {"a", "b", "c"}
    assert metrics.precision(ranked, relevant, 4) == 2 / 4
    assert metrics.recall(ranked, relevant, 4) == 2 / 3
    assert metrics.ndcg(ranked, relevant, 4) == pytest.approx((D[0] + D[2]) / (D[0] + D[1] + D[2]))
    # AP: precision 1/1 at rank 1, 2/3 at rank 3, over min(k, |relevant|) = 3.
    assert metrics.average_precision(ranked, relevant, 4) == pytest.approx((1 + 2 / 3) / 3)
    assert metrics.reciprocal_rank(ranked, relevant, 4) == 1.0
    assert metrics.hit(ranked, relevant, 4) == 1.0


def test_only_the_top_k_counts():
    ranked, relevant = ["x", "y", "a"], {"a"}
    assert metrics.hit(ranked, relevant, 2) == 0.0
    assert metrics.reciprocal_rank(ranked, relevant, 2) == 0.0
    assert metrics.reciprocal_rank(ranked, relevant, 3) == pytest.approx(1 / 3)
    assert metrics.ndcg(ranked, relevant, 3) == pytest.approx(D[2] / D[0])


def test_ideal_list_is_capped_at_k():
    # Five relevant items, k = 2: both slots hit is perfect.
    relevant = {"a", "b", "c", "d", "e"}
    assert metrics.ndcg(["a", "b"], relevant, 2) == 1.0
    assert metrics.average_precision(["a", "b"], relevant, 2) == 1.0
    assert metrics.recall(["a", "b"], relevant, 2) == 2 / 5


def test_a_short_list_is_not_rewarded():
    # Precision divides by k, not by the list's length.
    assert metrics.precision(["a"], {"a", "b"}, 10) == 0.1


def test_per_user_leaves_out_users_with_no_test_items():
    lists = {"u1": ["a", "b"], "u2": ["c"], "u3": ["d"]}
    relevant = {"u1": {"b"}, "u2": set(), "u4": {"z"}}
    frame = metrics.per_user(lists, relevant, 2)
    assert list(frame.index) == ["u1", "u4"]  # u2 has nothing to find, u3 is not in the test
    assert frame.loc["u1", "ndcg"] == pytest.approx(D[1] / D[0])
    assert frame.loc["u1", "mrr"] == 0.5
    assert frame.loc["u4"].tolist() == [0.0] * 6  # asked but no list: all zero
    means = metrics.means(frame)
    assert means["hit_rate"] == 0.5 and means["mrr"] == 0.25


def test_means_of_nobody_are_zero():
    assert metrics.means(metrics.per_user({}, {"u": set()}, 10)) == dict.fromkeys(
        metrics.PER_USER, 0.0
    )
