"""recsys.assign_arm: deterministic, the same from every connection and app,
equal to its formula re-computed in Python, and balanced against the shares."""

from __future__ import annotations

import psycopg
import pytest
from scipy import stats

from tests.support.experiments import arm_of, create, point

SHARES = [("a", "popular", 0.2), ("b", "popular", 0.3), ("c", "behavior_based", 0.5)]


def assigned(conn, experiment: str, users: list[str]) -> list[str]:
    rows = conn.execute(
        "select recsys.assign_arm(%s, u) from unnest(%s::text[]) with ordinality as t(u, n)"
        " order by n",
        (experiment, users),
    ).fetchall()
    return [row[0] for row in rows]


def test_the_point_is_md5_52_bits(conn):
    for user in ("1", "user-42", "ü", ""):
        [(u,)] = conn.execute("select recsys.arm_point('exp', %s)", (user,)).fetchall()
        assert u == point("exp", user) and 0 <= u < 1


def test_assignment_equals_the_python_recomputation(conn):
    create(conn, "exp", "ab", SHARES)
    users = [f"u{n}" for n in range(2000)]
    arms = [(name, share) for name, _, share in SHARES]
    assert assigned(conn, "exp", users) == [arm_of("exp", user, arms) for user in users]


def test_assignment_is_the_same_from_another_connection(conn, db_url):
    create(conn, "exp", "ab", SHARES)
    users = [f"u{n}" for n in range(500)]
    with psycopg.connect(db_url) as other:
        assert assigned(other, "exp", users) == assigned(conn, "exp", users)
    assert assigned(conn, "exp", users) == assigned(conn, "exp", users)


def test_experiments_assign_independently(conn):
    create(conn, "one", "ab", SHARES[:2])
    create(conn, "two", "ab", SHARES[:2])
    users = [str(n) for n in range(400)]
    assert assigned(conn, "one", users) != assigned(conn, "two", users)


def test_assignment_is_balanced_against_the_shares(conn):
    create(conn, "exp", "ab", SHARES)
    users = [str(n) for n in range(10_000)]
    got = assigned(conn, "exp", users)
    observed = [got.count(name) for name, _, _ in SHARES]
    expected = [share * len(users) for _, _, share in SHARES]
    assert stats.chisquare(observed, expected).pvalue > 0.001


def test_unknown_experiment_and_missing_user_are_clear_errors(conn):
    with pytest.raises(psycopg.errors.NoDataFound, match='unknown experiment "nope"'):
        conn.execute("select recsys.assign_arm('nope', '1')")
    conn.rollback()
    create(conn, "exp", "ab", SHARES)
    with pytest.raises(psycopg.errors.InvalidParameterValue, match='experiment "exp"'):
        conn.execute("select recsys.assign_arm('exp', null)")
