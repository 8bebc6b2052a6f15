"""A request inside an experiment: the user's arm answers (A/B), or both arms'
lists are merged by team draft and logged once with the arm that placed each
item (interleaving)."""

from __future__ import annotations

import uuid
from dataclasses import replace

from app import recommenders
from app.db import scenarios as db_scenarios
from app.db.pool import Connection
from app.experiments import serving
from app.experiments.errors import ExperimentStateError
from app.experiments.store import INTERLEAVE
from app.recommenders import scenarios
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
    case, arm_query = await arm_request(conn, arm, query)
    served = await recommenders.serve(conn, case, arm_query, exposure)
    return case, served, exposure


async def arm_request(conn: Connection, arm: serving.Arm, query: Query) -> tuple[str, Query]:
    """The case and request as the arm runs them: its method and fixed
    parameters win; an arm naming a scenario runs the scenario's settings."""
    params = dict(arm.params)
    name = params.pop("scenario", None)
    query = replace(query, method=arm.method, **params)
    if name is None:
        return arm.case, query
    scenario = await db_scenarios.get(conn, name)
    if scenario is None:
        raise ExperimentStateError(
            f"arm {arm.name!r} serves scenario {name!r}, which was deleted; put it back"
            " (PUT /admin/scenarios/{name}) or stop the experiment",
            "scenario",
        )
    return scenarios.apply(scenario, query, {"k", *params})


async def _interleaved(
    conn: Connection, assignment: serving.Assignment, query: Query, exposure: Exposure
) -> Served:
    lists = [
        await recommenders.ranked(conn, *(await arm_request(conn, arm, query)))
        for arm in assignment.arms
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
