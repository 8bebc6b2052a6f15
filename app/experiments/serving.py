"""The hot path: which arm(s) a user's request runs, and the interleaved list.

`assign` is one query (recsys.arms_for: the same hash analysts call as
recsys.assign_arm), so every instance on one database assigns a user alike,
with no state in the process.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.db import queries
from app.db.pool import Connection
from app.experiments.errors import ExperimentNotFound, ExperimentNotRunning, InvalidExperiment
from app.experiments.store import INTERLEAVE

__all__ = [
    "Arm",
    "Assignment",
    "ExperimentNotFound",
    "ExperimentNotRunning",
    "InvalidExperiment",
    "assign",
    "team_draft",
]


@dataclass(frozen=True)
class Arm:
    name: str
    case: str
    method: str | None  # the hybrid's method (always set for hybrid); else None
    params: dict[str, Any]  # request parameters the arm fixes: category, rotation


@dataclass(frozen=True)
class Assignment:
    experiment: str
    mode: str  # "ab" or "interleave"
    # A/B: the user's one arm; interleave: both arms, control first.
    arms: tuple[Arm, ...]


async def assign(conn: Connection, experiment: str, user_id: str) -> Assignment:
    """The arms `user_id` is served in `experiment`.

    Raises ExperimentNotFound (an unknown name) or ExperimentNotRunning (a draft
    or a stopped experiment), both with `field` = "experiment", and
    InvalidExperiment (field "user_id") without a user: the hash needs one.
    The admin blueprint maps them to 404, 409 and 400 for every route.
    """
    if not user_id:
        raise InvalidExperiment(f"experiment {experiment!r} needs a user_id", "user_id")
    cur = await conn.execute(
        queries.get("assign_experiment"), {"experiment": experiment, "user_id": user_id}
    )
    rows = await cur.fetchall()
    if not rows:
        raise ExperimentNotFound(experiment)
    mode, status = rows[0]["mode"], rows[0]["status"]
    if status != "running":
        raise ExperimentNotRunning(experiment, status)
    chosen = rows if mode == INTERLEAVE else [row for row in rows if row["assigned"]]
    arms = tuple(Arm(r["arm"], r["case_name"], r["method"], r["params"]) for r in chosen)
    return Assignment(experiment, mode, arms)


def team_draft(lists: Sequence[Sequence[str]], k: int, seed: str) -> list[tuple[str, int]]:
    """Team-draft interleaving (Radlinski, Kurup and Joachims, CIKM 2008).

    Returns up to k (product_id, index of the list that placed it). Each round,
    every list that still has an unplaced item places its best one, in an order
    drawn from a hash of (seed, round): for two lists, a fair coin per round,
    which team-draft flips whenever both teams hold as many items. The same seed
    gives the same list, so a page can be rebuilt and audited. A list that runs
    dry leaves the rest to the others, so the result is k long while any list
    has items; an item both lists hold is placed once, by whichever gets to it
    first, and credited to that list. A good seed is the page's recomm_id: the
    ledger then holds all it takes to rebuild the page.
    """
    placed: list[tuple[str, int]] = []
    taken: set[str] = set()
    cursors = [0] * len(lists)
    round_ = 0
    while len(placed) < k:
        placed_before = len(placed)
        for team in _order(seed, round_, len(lists)):
            item = _next_unplaced(lists[team], cursors, team, taken)
            if item is not None:
                placed.append((item, team))
                taken.add(item)
            if len(placed) == k:
                break
        if len(placed) == placed_before:
            break  # every list is exhausted
        round_ += 1
    return placed


def _order(seed: str, round_: int, teams: int) -> list[int]:
    """The order in which the teams pick in this round, from md5 (the same on
    every Python and platform, unlike hash() or random's algorithms)."""
    return sorted(range(teams), key=lambda t: hashlib.md5(f"{seed}/{round_}/{t}".encode()).digest())


def _next_unplaced(
    items: Sequence[str], cursors: list[int], team: int, taken: set[str]
) -> str | None:
    while cursors[team] < len(items):
        item = items[cursors[team]]
        cursors[team] += 1
        if item not in taken:
            return item
    return None
