"""Beyond-accuracy measures against hand-computed cases."""

import math

import numpy as np
import pytest

from app.evaluation import beyond

USERS_OF = {"a": 7, "b": 3, "c": 0, "d": 1}  # training users per item, of 7 users


def test_coverage_counts_catalogue_items_in_any_list():
    lists = {"u1": ["a", "b"], "u2": ["b", "zz"]}
    assert beyond.coverage(lists, ["a", "b", "c", "d"]) == 0.5
    assert beyond.coverage(lists, []) == 0.0


def test_novelty_is_mean_smoothed_self_information_per_list():
    lists = {"u1": ["a", "c"], "u2": ["b"], "u3": []}
    u1 = (-math.log2(8 / 8) - math.log2(1 / 8)) / 2  # 0 and 3 bits
    u2 = -math.log2(4 / 8)  # 1 bit
    assert beyond.novelty(lists, USERS_OF, 7) == pytest.approx((u1 + u2) / 2)


def test_diversity_is_mean_pairwise_cosine_distance():
    vectors = {"a": np.array([1.0, 0]), "b": np.array([0, 2.0]), "c": np.array([1.0, 1.0])}
    # u1: a-b distance 1; u2: a-c 1 - 1/sqrt2, plus an item without a vector.
    lists = {"u1": ["a", "b"], "u2": ["a", "c", "x"], "u3": ["a"]}
    expected = (1 + (1 - 1 / math.sqrt(2))) / 2
    assert beyond.intra_list_diversity(lists, vectors) == pytest.approx(expected)
    assert beyond.intra_list_diversity({"u": ["a"]}, vectors) is None


def test_popularity_bias_and_short_head():
    catalogue = ["a", "b", "c", "d", "e"]
    head = beyond.head(USERS_OF, catalogue)  # ceil(20% of 5) = 1 item
    assert head == {"a"}
    figures = beyond.popularity({"u1": ["a", "b"], "u2": ["a", "c"]}, USERS_OF, head)
    assert figures == {"arp": pytest.approx((7 + 3 + 7 + 0) / 4), "head_share": 0.5}


def test_popularity_ties_are_broken_by_id():
    # c and e both have no users: c ranks before e.
    assert beyond.head({"c": 0, "e": 0}, ["e", "c"]) == {"c"}


def test_deciles_share_recommendations_by_popularity_tenth():
    catalogue = [f"i{n}" for n in range(20)]  # two items per tenth
    users_of = {item: 20 - n for n, item in enumerate(catalogue)}  # i0 most popular
    shares = beyond.popularity_deciles({"u": ["i0", "i1", "i19", "i5"]}, users_of, catalogue)
    assert shares == [0.5, 0, 0.25, 0, 0, 0, 0, 0, 0, 0.25]
