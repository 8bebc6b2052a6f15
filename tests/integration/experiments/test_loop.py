"""The pieces together, as the service serves an experiment: assign, team-draft,
log the list in the ledger (recsys.log_exposure), ingest events (attributed on
ingest, without recomm_id), and read the report."""

from __future__ import annotations

import uuid

import psycopg
from psycopg.rows import dict_row

from app.experiments import report, serving, store

ARMS = (store.ArmSpec("control", "popular"), store.ArmSpec("treatment", "behavior_based"))


async def test_an_interleaved_experiment_from_serving_to_report(db_url):
    async with await psycopg.AsyncConnection.connect(db_url, row_factory=dict_row) as conn:
        await conn.execute(
            "select recsys.ingest_events(%s, %s, %s)",
            (["seed"] * 6, ["p1", "p2", "p3", "q1", "q2", "q3"], ["view"] * 6),
        )
        await store.create(conn, store.Definition("mix", "interleave", ARMS), start=True)
        assignment = await serving.assign(conn, "mix", "42")
        recomm_id = uuid.uuid4()
        lists = [["p1", "p2", "p3"], ["q1", "q2", "q3"]]
        page = serving.team_draft(lists, 4, str(recomm_id))
        placed_by = [assignment.arms[team].name for _, team in page]
        await conn.execute(
            "select recsys.log_exposure(%s, '42', 'recommend', 'interleaved', %s,"
            " experiment => 'mix', placed_by => %s)",
            (recomm_id, [product for product, _ in page], placed_by),
        )
        # 42 views both items the treatment placed: credited on ingest to this list.
        treatment_items = [p for p, team in page if team == 1]
        await conn.execute(
            "select recsys.ingest_events(%s, %s, %s)",
            (["42"] * len(treatment_items), treatment_items, ["view"] * len(treatment_items)),
        )
        built = await report.build(conn, "mix")
    control, treatment = built.arms
    assert (control.impressions, treatment.impressions) == (2, 2)
    assert (control.clicks, treatment.clicks) == (0, 2)
    assert (control.wins, treatment.wins) == (0, 1)
    assert built.interleaving is not None and built.interleaving.wins == (0, 1)
