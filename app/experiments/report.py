"""An experiment's report: figures per arm from the exposure ledger, the tests
of app.experiments.stats, and a verdict. The API and the CLI render the same
Report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.db import queries
from app.db.pool import Connection
from app.experiments import stats, store
from app.experiments.errors import InvalidExperiment

ALPHA = 0.05
# Below this, users per arm contradict the shares too strongly to be chance.
SAMPLE_RATIO_ALPHA = 0.001


@dataclass(frozen=True)
class ArmFigures:
    name: str
    position: int  # 1: the control
    case: str
    method: str | None
    users: int  # users shown at least one of the arm's lists (interleaving: items)
    lists: int
    impressions: int  # items shown (interleaving: items the arm placed)
    clicks: int  # impressions with a positive event of the list's user
    conversions: int  # impressions with a conversion event (purchase)
    users_clicked: int
    users_converted: int
    ctr: float | None  # clicks / impressions: descriptive only
    user_click_rate: float | None  # users_clicked / users: what A/B tests
    user_conversion_rate: float | None
    wins: int | None  # interleaving: users whose clicks favoured this arm


@dataclass(frozen=True)
class Comparison:
    """A/B: one arm after the control, on both user-level rates."""

    arm: str
    click_rate: stats.Uplift
    conversion_rate: stats.Uplift


@dataclass(frozen=True)
class Report:
    experiment: str
    mode: str
    status: str
    started_at: datetime | None
    stopped_at: datetime | None
    arms: tuple[ArmFigures, ...]
    comparisons: tuple[Comparison, ...]  # A/B only
    interleaving: stats.SignTest | None  # interleaving only
    alpha: float
    # A/B: p-value of users per arm against the shares; below SAMPLE_RATIO_ALPHA
    # the verdict warns that the comparison cannot be trusted.
    sample_ratio_p: float | None
    winner: str | None  # the arm that wins at alpha; None: no significant difference
    verdict: str


async def build(conn: Connection, name: str, alpha: float = ALPHA) -> Report:
    """The report of experiment `name` (any status); ExperimentNotFound if unknown."""
    experiment = await store.get(conn, name)
    cur = await conn.execute(queries.get("experiment_arm_figures"), {"experiment": name})
    rows = await cur.fetchall()
    wins: dict[str, int] = {}
    if experiment.mode == store.INTERLEAVE:
        cur = await conn.execute(queries.get("experiment_wins"), {"experiment": name})
        wins = {row["arm"]: int(row["wins"]) for row in await cur.fetchall()}
    arms = tuple(_figures(row, wins.get(row["arm"])) for row in rows)
    if experiment.mode == store.INTERLEAVE:
        return _interleaving(experiment, arms, alpha)
    return _ab(experiment, arms, alpha)


def _figures(row: dict[str, Any], wins: int | None) -> ArmFigures:
    counts = {
        key: int(row[key])
        for key in (
            "users",
            "lists",
            "impressions",
            "clicks",
            "conversions",
            "users_clicked",
            "users_converted",
        )
    }
    return ArmFigures(
        name=row["arm"],
        position=int(row["position"]),
        case=row["case_name"],
        method=row["method"],
        **counts,
        ctr=stats.rate(counts["clicks"], counts["impressions"]),
        user_click_rate=stats.rate(counts["users_clicked"], counts["users"]),
        user_conversion_rate=stats.rate(counts["users_converted"], counts["users"]),
        wins=wins,
    )


def _ab(experiment: store.Experiment, arms: tuple[ArmFigures, ...], alpha: float) -> Report:
    control = arms[0]
    comparisons = tuple(
        Comparison(
            arm.name,
            stats.uplift((control.users_clicked, control.users), (arm.users_clicked, arm.users)),
            stats.uplift(
                (control.users_converted, control.users), (arm.users_converted, arm.users)
            ),
        )
        for arm in arms[1:]
    )
    winner, verdict = ab_verdict(control.name, comparisons, alpha)
    ratio = stats.sample_ratio([a.users for a in arms], [a.share for a in experiment.arms])
    if ratio is not None and ratio < SAMPLE_RATIO_ALPHA:
        verdict = (
            f"sample ratio mismatch (p = {ratio:.3g}): users per arm do not follow the"
            f" shares, so do not trust this comparison; {verdict}"
        )
    return _report(
        experiment, arms, alpha, winner, verdict, comparisons=comparisons, sample_ratio_p=ratio
    )


def ab_verdict(
    control: str, comparisons: tuple[Comparison, ...], alpha: float
) -> tuple[str | None, str]:
    """The winner on the user click rate, with Bonferroni's correction when
    several arms are each compared with the control."""
    level = alpha / max(len(comparisons), 1)
    significant = [
        c for c in comparisons if c.click_rate.p_value is not None and c.click_rate.p_value < level
    ]
    better = [c for c in significant if (c.click_rate.difference or 0) > 0]
    if better:
        best = max(better, key=lambda c: c.click_rate.difference or 0)
        return best.arm, f"{best.arm} wins on user click rate ({_uplift_text(best)})"
    if significant and len(significant) == len(comparisons):
        return control, f"{control} wins on user click rate: every other arm is worse"
    return None, f"no significant difference in user click rate at alpha {alpha:g}"


def _uplift_text(comparison: Comparison) -> str:
    u = comparison.click_rate
    assert u.difference is not None and u.low is not None and u.high is not None
    return (
        f"{u.difference * 100:+.2f} points, 95% CI {u.low * 100:+.2f} to {u.high * 100:+.2f},"
        f" p = {u.p_value:.3g}"
    )


def _interleaving(
    experiment: store.Experiment, arms: tuple[ArmFigures, ...], alpha: float
) -> Report:
    if len(arms) != 2:  # only a definition written by hand in psql gets here
        raise InvalidExperiment(
            f"interleaving compares 2 arms; {experiment.name!r} has {len(arms)}", "arms"
        )
    control, treatment = arms
    test = stats.sign_test(control.wins or 0, treatment.wins or 0)
    winner: str | None = None
    verdict = f"no significant preference at alpha {alpha:g}"
    if test.p_value is not None and test.p_value < alpha:
        winner = treatment.name if test.wins[1] > test.wins[0] else control.name
        verdict = (
            f"{winner} wins: preferred by {max(test.wins)} of {sum(test.wins)} users"
            f" with a preference, p = {test.p_value:.3g}"
        )
    return _report(experiment, arms, alpha, winner, verdict, interleaving=test)


def _report(
    experiment: store.Experiment,
    arms: tuple[ArmFigures, ...],
    alpha: float,
    winner: str | None,
    verdict: str,
    comparisons: tuple[Comparison, ...] = (),
    interleaving: stats.SignTest | None = None,
    sample_ratio_p: float | None = None,
) -> Report:
    return Report(
        experiment=experiment.name,
        mode=experiment.mode,
        status=experiment.status,
        started_at=experiment.started_at,
        stopped_at=experiment.stopped_at,
        arms=arms,
        comparisons=comparisons,
        interleaving=interleaving,
        alpha=alpha,
        sample_ratio_p=sample_ratio_p,
        winner=winner,
        verdict=verdict,
    )
