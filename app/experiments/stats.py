"""The statistics of a report, with scipy.stats.

A/B compares proportions of users (did the user click / convert at least
once?), not of impressions: one user's impressions are not independent, so
counting them as separate trials would make intervals too narrow. Interleaving
compares, per user, which arm's items were clicked more: a sign test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Uplift:
    """An arm against the control on one proportion."""

    control: float | None  # the control's rate (None without users)
    rate: float | None  # the arm's rate
    difference: float | None  # rate - control
    low: float | None  # 95% Wald interval of the difference
    high: float | None
    relative: float | None  # difference / control (None when the control's rate is 0)
    p_value: float | None  # two-sided, pooled two-proportion z-test


@dataclass(frozen=True)
class SignTest:
    """Interleaving: users whose clicks favoured each arm (ties dropped)."""

    wins: tuple[int, int]  # control, treatment
    p_value: float | None  # exact two-sided binomial test against 1/2
    share: float | None  # the treatment's share of the decided users
    low: float | None  # its 95% Clopper-Pearson interval
    high: float | None


def rate(successes: int, trials: int) -> float | None:
    return successes / trials if trials else None


def z_test(x1: int, n1: int, x2: int, n2: int) -> float | None:
    """Two-sided p-value that two proportions are equal, with the pooled variance."""
    if not n1 or not n2:
        return None
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance == 0:
        return 1.0  # all trials failed, or all succeeded, in both: no difference at all
    z = (x2 / n2 - x1 / n1) / math.sqrt(variance)
    return float(2 * stats.norm.sf(abs(z)))


def uplift(control: tuple[int, int], arm: tuple[int, int]) -> Uplift:
    """`arm` against `control`, each (successes, trials)."""
    (x1, n1), (x2, n2) = control, arm
    p1, p2 = rate(x1, n1), rate(x2, n2)
    if p1 is None or p2 is None:
        return Uplift(p1, p2, None, None, None, None, None)
    difference = p2 - p1
    z = float(stats.norm.ppf(0.5 + CONFIDENCE / 2))
    half = z * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    relative = difference / p1 if p1 else None
    p_value = z_test(x1, n1, x2, n2)
    return Uplift(p1, p2, difference, difference - half, difference + half, relative, p_value)


def sign_test(control_wins: int, treatment_wins: int) -> SignTest:
    decided = control_wins + treatment_wins
    wins = (control_wins, treatment_wins)
    if not decided:
        return SignTest(wins, None, None, None, None)
    result = stats.binomtest(treatment_wins, decided, 0.5)
    interval = result.proportion_ci(confidence_level=CONFIDENCE)
    return SignTest(
        wins,
        float(result.pvalue),
        treatment_wins / decided,
        float(interval.low),
        float(interval.high),
    )


def sample_ratio(users: Sequence[int], shares: Sequence[float]) -> float | None:
    """p-value that users fell into the arms as the shares say (chi-square). A
    tiny one (a sample ratio mismatch) means something other than the hash
    decided who was counted where: lost exposures, a cache, a bot in one arm."""
    total = sum(users)
    if not total:
        return None
    expected = [total * share / sum(shares) for share in shares]
    return float(stats.chisquare(users, expected).pvalue)
