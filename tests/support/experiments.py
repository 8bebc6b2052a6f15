"""Experiments for the tests: definitions, and the assignment hash re-computed in
Python from its documented formula (sql/10_experiments.sql, recsys.arm_point)."""

from __future__ import annotations

import hashlib
import itertools
import uuid
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


def user(conn: psycopg.Connection[Any], external_id: str) -> str:
    """A user row (created if new); its external id, which the ledger keeps."""
    conn.execute(
        "insert into recsys.users (external_id) values (%s) on conflict do nothing",
        (external_id,),
    )
    return external_id


def item(conn: psycopg.Connection[Any], external_id: str) -> int:
    """The internal id of an item (created if new), as recsys.exposures.items holds them."""
    row = conn.execute(
        "insert into recsys.items (external_id) values (%s) on conflict (external_id)"
        " do update set external_id = excluded.external_id returning id",
        (external_id,),
    ).fetchone()
    assert row is not None
    return int(row[0])


def show(
    conn: psycopg.Connection[Any],
    experiment: str | None,
    user_id: str,
    items: Sequence[int],
    arm: str | None = None,
    placed_by: Sequence[str] | None = None,
) -> uuid.UUID:
    """One served list in recsys.exposures; its recomm_id."""
    recomm_id = uuid.uuid4()
    conn.execute(
        "insert into recsys.exposures (recomm_id, user_external_id, surface, case_name,"
        " experiment, arm, items, placed_by, chain)"
        " values (%s, %s, 'recommend', %s, %s, %s, %s, %s, %s)",
        (
            recomm_id,
            user_id,
            "interleaved" if placed_by else "popular",
            experiment,
            arm,
            list(items),
            None if placed_by is None else list(placed_by),
            recomm_id,
        ),
    )
    return recomm_id


def act(
    conn: psycopg.Connection[Any], recomm_id: uuid.UUID, user_id: str, item_id: int, event_type: str
) -> None:
    """An event of user_id on item_id carrying recomm_id, as a client sends it."""
    conn.execute(
        "insert into recsys.events (user_id, item_id, type_id, recomm_id)"
        " select u.id, %s, t.id, %s from recsys.users u, recsys.event_types t"
        " where u.external_id = %s and t.name = %s",
        (item_id, recomm_id, user_id, event_type),
    )
