"""A request inside an experiment: the user's arm answers (A/B), or both arms'
lists are merged by team draft and logged once with the arm that placed each
item (interleaving)."""

from __future__ import annotations

import uuid
from dataclasses import replace

from app import recommenders
from app.db.pool import Connection
from app.experiments import serving
from app.experiments.store import INTERLEAVE
from app.recommenders.base import Exposure, Query, Recommendation, Served

# The ledger's case for an interleaved list (recsys.exposures.case_name).
INTERLEAVED = "interleaved"


async def serve(
    conn: Connection, experiment: str, query: Query, exposure: Exposure
) -> tuple[str, Served, Exposure]:
    """The list query.user_id gets in `experiment`: (the case that answered, the
    list, its ledger context). Raises serving's errors for an unknown, stopped
    or user-less request."""
    assignment = await serving.assign(conn, experiment, query.user_id or "")
    exposure = replace(exposure, experiment=experiment)
    if assignment.mode == INTERLEAVE:
        return INTERLEAVED, await _interleaved(conn, assignment, query, exposure), exposure
    arm = assignment.arms[0]
    exposure = replace(exposure, arm=arm.name)
    served = await recommenders.serve(conn, arm.case, arm_query(arm, query), exposure)
    return arm.case, served, exposure


def arm_query(arm: serving.Arm, query: Query) -> Query:
    """The request as the arm runs it: its method and fixed parameters win."""
    return replace(query, method=arm.method, **arm.params)


async def _interleaved(
    conn: Connection, assignment: serving.Assignment, query: Query, exposure: Exposure
) -> Served:
    lists = [
        await recommenders.rotated(conn, arm.case, arm_query(arm, query)) for arm in assignment.arms
    ]
    recomm_id = str(uuid.uuid4())
    # The recomm_id seeds the coin flips: the ledger holds all it takes to rebuild the page.
    merged = serving.team_draft(
        [[r.product_id for r in arm_list] for arm_list in lists], query.k, recomm_id
    )
    found = [{r.product_id: r for r in arm_list} for arm_list in lists]
    recs: list[Recommendation] = [found[team][product] for product, team in merged]
    placed_by = [assignment.arms[team].name for _, team in merged]
    ids = [r.product_id for r in recs]
    await recommenders.log_exposure(
        conn, INTERLEAVED, query, exposure, ids, placed_by, recomm_id=recomm_id
    )
    return Served(recomm_id, recs)
