"""Experiments for the tests: definitions, and the assignment hash re-computed in
Python from its documented formula (sql/10_experiments.sql, recsys.arm_point)."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from typing import Any

import psycopg

AB_ARMS = [
    {"name": "control", "case": "popular"},
    {"name": "treatment", "case": "hybrid", "method": "switching"},
]


def body(name: str = "exp1", mode: str = "ab", **fields: Any) -> dict[str, Any]:
    """A POST /admin/experiments body."""
    return {"name": name, "mode": mode, "arms": AB_ARMS, **fields}


def point(experiment: str, user: str) -> float:
    """Where the user falls in [0, 1): md5's first 52 bits over 2^52."""
    digest = hashlib.md5(f"{experiment}/{user}".encode()).hexdigest()
    return int(digest[:13], 16) / 2**52


def arm_of(experiment: str, user: str, arms: Sequence[tuple[str, float]]) -> str:
    """The arm of `arms` ((name, share), in position order) the user falls in."""
    total = sum(share for _, share in arms)
    bounds = itertools.accumulate(share for _, share in arms)
    u = point(experiment, user)
    return next(name for (name, _), upper in zip(arms, bounds, strict=True) if u < upper / total)


def create(
    conn: psycopg.Connection[Any], name: str, mode: str, arms: Sequence[tuple[str, str, float]]
) -> None:
    """Insert an experiment with (name, case, share) arms, straight in SQL, and commit."""
    [row] = conn.execute(
        "insert into recsys.experiments (name, mode) values (%s, %s) returning id", (name, mode)
    ).fetchall()
    for position, (arm, case, share) in enumerate(arms, 1):
        conn.execute(
            "insert into recsys.experiment_arms (experiment_id, name, position, case_name, share)"
            " values (%s, %s, %s, %s, %s)",
            (row[0], arm, position, case, share),
        )
    conn.commit()
