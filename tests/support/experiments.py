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


# TEMPORARY, until sql/09_loop.sql is merged: the exposure ledger's contract
# (recsys.exposures, and recsys.attributions as a table instead of a view).
LOOP_STANDIN = """
create table if not exists recsys.exposures (
    recomm_id uuid primary key,
    user_id bigint,
    case_name text not null,
    method text,
    scenario text,
    experiment text,
    arm text,
    items bigint[] not null,
    placed_by text[],
    chain uuid not null,
    page integer not null default 1,
    request jsonb not null,
    served_at timestamptz not null default now()
);
create table if not exists recsys.attributions (
    event_id bigint generated always as identity,
    recomm_id uuid,
    user_id bigint,
    item_id bigint,
    event_type text,
    kind text,
    conversion boolean,
    position integer,
    ts timestamptz default now()
);
"""


def ensure_loop(conn: psycopg.Connection[Any]) -> None:
    conn.execute(LOOP_STANDIN)
    conn.commit()


KINDS = {
    "view": "positive",
    "add_to_cart": "positive",
    "purchase": "positive",
    "dislike": "negative",
}


def user(conn: psycopg.Connection[Any], external_id: str) -> int:
    """The internal id of a user, created if new."""
    row = conn.execute(
        "insert into recsys.users (external_id) values (%s) on conflict (external_id)"
        " do update set external_id = excluded.external_id returning id",
        (external_id,),
    ).fetchone()
    assert row is not None
    return int(row[0])


def item(conn: psycopg.Connection[Any], external_id: str) -> int:
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
    user_id: int,
    items: Sequence[int],
    arm: str | None = None,
    placed_by: Sequence[str] | None = None,
) -> uuid.UUID:
    """One served list in recsys.exposures; its recomm_id."""
    recomm_id = uuid.uuid4()
    conn.execute(
        "insert into recsys.exposures (recomm_id, user_id, case_name, experiment, arm, items,"
        " placed_by, chain, request) values (%s, %s, %s, %s, %s, %s, %s, %s, '{}')",
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
    conn: psycopg.Connection[Any], recomm_id: uuid.UUID, user_id: int, item_id: int, event_type: str
) -> None:
    """An event of user_id on item_id carrying recomm_id."""
    conn.execute(
        "insert into recsys.attributions (recomm_id, user_id, item_id, event_type, kind,"
        " conversion, position)"
        " select %s, %s, %s, %s, %s, %s, array_position(x.items, %s)"
        " from recsys.exposures x where x.recomm_id = %s",
        (
            recomm_id,
            user_id,
            item_id,
            event_type,
            KINDS[event_type],
            event_type == "purchase",
            item_id,
            recomm_id,
        ),
    )
