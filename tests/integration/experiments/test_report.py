"""The report equals a hand count on constructed exposures and events."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.rows import dict_row

from app.experiments import report, stats
from tests.support.experiments import act, create, item, show, user


async def build(db_url, name):
    async with await psycopg.AsyncConnection.connect(db_url, row_factory=dict_row) as conn:
        return await report.build(conn, name)


def figures(built):
    keys = ("users", "lists", "impressions", "clicks", "conversions")
    return {
        a.name: tuple(getattr(a, k) for k in (*keys, "users_clicked", "users_converted"))
        for a in built.arms
    }


@pytest.fixture
def shop(conn):
    users = {name: user(conn, name) for name in ("u1", "u2", "u3", "u4", "u5", "u6")}
    items = {name: item(conn, name) for name in ("i1", "i2", "i3", "i4", "i5")}
    conn.commit()
    return users, items


async def test_ab_report_by_hand(conn, db_url, shop):
    u, i = shop
    create(conn, "exp", "ab", [("control", "popular", 1), ("treatment", "hybrid", 1)])
    # control: u1 clicks and buys i1 from one list, ignores another; u2 ignores
    # its list and views i3, which it did not hold.
    first = show(conn, "exp", u["u1"], [i["i1"], i["i2"], i["i3"]], arm="control")
    act(conn, first, u["u1"], i["i1"], "view")
    act(conn, first, u["u1"], i["i1"], "purchase")
    show(conn, "exp", u["u1"], [i["i4"], i["i5"]], arm="control")
    third = show(conn, "exp", u["u2"], [i["i1"], i["i2"]], arm="control")
    act(conn, third, u["u2"], i["i3"], "view")
    # treatment: u3 clicks two items (one twice), u4 one; u5's list gets a
    # dislike from u5 and a view from u6, whose list it was not.
    fourth = show(conn, "exp", u["u3"], [i["i1"], i["i2"], i["i3"]], arm="treatment")
    act(conn, fourth, u["u3"], i["i2"], "view")
    act(conn, fourth, u["u3"], i["i2"], "add_to_cart")
    act(conn, fourth, u["u3"], i["i3"], "view")
    fifth = show(conn, "exp", u["u4"], [i["i4"]], arm="treatment")
    act(conn, fifth, u["u4"], i["i4"], "view")
    sixth = show(conn, "exp", u["u5"], [i["i5"]], arm="treatment")
    act(conn, sixth, u["u5"], i["i5"], "dislike")
    act(conn, sixth, u["u6"], i["i5"], "view")
    # Lists of another experiment and outside experiments count for nothing.
    create(conn, "other", "ab", [("control", "popular", 1), ("treatment", "popular", 1)])
    elsewhere = show(conn, "other", u["u1"], [i["i1"]], arm="control")
    act(conn, elsewhere, u["u1"], i["i1"], "view")
    outside = show(conn, None, u["u1"], [i["i2"]])
    act(conn, outside, u["u1"], i["i2"], "view")
    conn.commit()

    built = await build(db_url, "exp")
    assert figures(built) == {
        "control": (2, 3, 7, 1, 1, 1, 1),
        "treatment": (3, 3, 5, 3, 0, 2, 0),
    }
    control, treatment = built.arms
    assert (control.ctr, treatment.ctr) == (1 / 7, 3 / 5)
    assert (control.user_click_rate, treatment.user_click_rate) == (1 / 2, 2 / 3)
    assert (control.user_conversion_rate, treatment.user_conversion_rate) == (1 / 2, 0)
    [comparison] = built.comparisons
    assert comparison.arm == "treatment"
    assert comparison.click_rate == stats.uplift((1, 2), (2, 3))
    assert comparison.conversion_rate == stats.uplift((1, 2), (0, 3))
    assert built.interleaving is None and built.winner is None
    assert built.verdict.startswith("no significant difference")


async def test_interleaving_report_by_hand(conn, db_url, shop):
    u, i = shop
    create(conn, "mix", "interleave", [("control", "popular", 1), ("treatment", "hybrid", 1)])
    c, t = "control", "treatment"
    # u1 clicks two items the treatment placed: a treatment win.
    m1 = show(conn, "mix", u["u1"], [i["i1"], i["i2"], i["i3"], i["i4"]], placed_by=[c, t, c, t])
    act(conn, m1, u["u1"], i["i2"], "view")
    act(conn, m1, u["u1"], i["i4"], "view")
    # u2 clicks one of each: a tie, dropped.
    m2 = show(conn, "mix", u["u2"], [i["i1"], i["i2"]], placed_by=[t, c])
    act(conn, m2, u["u2"], i["i1"], "view")
    act(conn, m2, u["u2"], i["i2"], "view")
    # u3 clicks the control's item of one list, nothing of another: a control win.
    m3 = show(conn, "mix", u["u3"], [i["i3"], i["i4"]], placed_by=[c, t])
    act(conn, m3, u["u3"], i["i3"], "view")
    show(conn, "mix", u["u3"], [i["i5"]], placed_by=[t])
    # u4 views the treatment's item twice: one click, a treatment win.
    m5 = show(conn, "mix", u["u4"], [i["i1"], i["i2"]], placed_by=[c, t])
    act(conn, m5, u["u4"], i["i2"], "view")
    act(conn, m5, u["u4"], i["i2"], "view")
    conn.commit()

    built = await build(db_url, "mix")
    assert figures(built) == {
        "control": (4, 4, 5, 2, 0, 2, 0),
        "treatment": (4, 5, 6, 4, 0, 3, 0),
    }
    assert [a.wins for a in built.arms] == [1, 2]
    assert built.interleaving == stats.sign_test(1, 2)
    assert built.comparisons == () and built.winner is None


def test_verdicts():
    def comparison(arm, x, n):
        return report.Comparison(
            arm, stats.uplift((100, 1000), (x, n)), stats.uplift((0, 1), (0, 1))
        )

    better = comparison("b", 140, 1000)
    assert report.ab_verdict("a", (better,), 0.05)[0] == "b"
    assert report.ab_verdict("a", (comparison("b", 60, 1000),), 0.05)[0] == "a"
    assert report.ab_verdict("a", (comparison("b", 110, 1000),), 0.05)[0] is None
    # Two arms against the control: each is tested at 0.025 (Bonferroni).
    p = better.click_rate.p_value
    assert p is not None and 0.001 < p < 0.025
    assert report.ab_verdict("a", (better, comparison("c", 100, 1000)), 0.05)[0] == "b"
    assert report.ab_verdict("a", (better, comparison("c", 100, 1000)), 2 * p)[0] is None


async def test_a_winner_with_enough_users(conn, db_url, shop):
    _, i = shop
    create(conn, "big", "ab", [("control", "popular", 1), ("treatment", "popular", 1)])
    # 200 users per arm: 20 clickers in control, 60 in treatment.
    for arm, clickers in (("control", 20), ("treatment", 60)):
        for n in range(200):
            who = user(conn, f"{arm}-{n}")
            shown = show(conn, "big", who, [i["i1"]], arm=arm)
            if n < clickers:
                act(conn, shown, who, i["i1"], "view")
    conn.commit()
    built = await build(db_url, "big")
    assert built.winner == "treatment" and built.verdict.startswith("treatment wins")
    assert built.comparisons[0].click_rate.difference == pytest.approx(0.2)


async def test_a_sample_ratio_mismatch_is_flagged(conn, db_url, shop):
    _, i = shop
    create(conn, "skew", "ab", [("control", "popular", 1), ("treatment", "popular", 1)])
    for arm, users in (("control", 150), ("treatment", 50)):
        for n in range(users):
            show(conn, "skew", user(conn, f"{arm}-{n}"), [i["i1"]], arm=arm)
    conn.commit()
    built = await build(db_url, "skew")
    assert built.sample_ratio_p is not None and built.sample_ratio_p < 1e-6
    assert built.verdict.startswith("sample ratio mismatch")
