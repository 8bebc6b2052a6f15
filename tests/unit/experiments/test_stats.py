"""The statistics against hand computations on constructed counts."""

from __future__ import annotations

import math

import pytest

from app.experiments import stats

# Control: 100 of 1000 users clicked; treatment: 130 of 1000.
CONTROL, TREATMENT = (100, 1000), (130, 1000)


def normal_sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2))


def test_pooled_z_test_by_hand():
    pooled = 230 / 2000
    z = (0.13 - 0.10) / math.sqrt(pooled * (1 - pooled) * (2 / 1000))
    assert z == pytest.approx(2.1027, abs=1e-4)
    assert stats.z_test(*CONTROL, *TREATMENT) == pytest.approx(2 * normal_sf(z), rel=1e-9)


def test_uplift_with_its_wald_interval_by_hand():
    u = stats.uplift(CONTROL, TREATMENT)
    half = 1.959963984540054 * math.sqrt(0.1 * 0.9 / 1000 + 0.13 * 0.87 / 1000)
    assert u.control == 0.1 and u.rate == 0.13
    assert u.difference == pytest.approx(0.03)
    assert (u.low, u.high) == (pytest.approx(0.03 - half), pytest.approx(0.03 + half))
    assert u.low == pytest.approx(0.00207, abs=1e-5)  # just above zero
    assert u.relative == pytest.approx(0.3)
    assert u.p_value == pytest.approx(0.0355, abs=1e-4)


def test_degenerate_counts():
    assert stats.z_test(0, 50, 0, 50) == 1.0
    assert stats.z_test(5, 0, 1, 10) is None
    empty = stats.uplift((0, 0), (3, 10))
    assert empty.difference is None and empty.p_value is None
    zero_control = stats.uplift((0, 10), (3, 10))
    assert zero_control.relative is None and zero_control.difference == pytest.approx(0.3)


def test_sign_test_is_the_exact_binomial_by_hand():
    test = stats.sign_test(3, 12)  # 15 decided users, 12 preferred the treatment
    tail = sum(math.comb(15, k) for k in range(12, 16)) / 2**15
    assert test.wins == (3, 12)
    assert test.p_value == pytest.approx(2 * tail)
    assert test.share == pytest.approx(0.8)
    assert test.low is not None and test.high is not None
    assert 0.5 < test.low < 0.8 < test.high < 1
    # Clopper-Pearson: the lower bound is where P(X >= 12 | p) = 2.5%.
    tail_at_low = sum(
        math.comb(15, k) * test.low**k * (1 - test.low) ** (15 - k) for k in range(12, 16)
    )
    assert tail_at_low == pytest.approx(0.025, rel=1e-6)


def test_sign_test_without_decided_users():
    test = stats.sign_test(0, 0)
    assert test.p_value is None and test.share is None


def test_sample_ratio_is_the_chi_square_by_hand():
    # 530 and 470 users where the shares say 1:1: chi2 = (30^2 + 30^2) / 500 = 3.6, 1 dof.
    p = stats.sample_ratio([530, 470], [1, 1])
    assert p == pytest.approx(math.erfc(math.sqrt(3.6 / 2)))
    assert stats.sample_ratio([250, 750], [1, 3]) == pytest.approx(1.0)
    assert stats.sample_ratio([0, 0], [1, 1]) is None
