"""Hybrid recommenders in SQL: switching order, adaptive weights from the active run."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from app.training import hybrid, runner
from tests.support.catalogue import FOOD, SPACE, load
from tests.support.events import at, ingest

FAST = runner.Options(progress=False, params={"ease": {"lam": 1.0, "n_neighbors": 20}})


def rows(conn: psycopg.Connection[Any], query: str, *args: Any) -> list[tuple[Any, ...]]:
    conn.rollback()
    found = conn.execute(query, args).fetchall()
    conn.rollback()
    return found


def history(conn: psycopg.Connection[Any], user: str, *products: str) -> None:
    ingest(conn, [(user, p, "view", None, at(1000 + n)) for n, p in enumerate(products)])
    conn.commit()


def switching(conn: psycopg.Connection[Any], user: str, k: int = 6) -> list[str]:
    recs = rows(
        conn, "select * from recsys.recommend(%s, %s, 'hybrid', method => 'switching')", user, k
    )
    assert len(recs) == k
    return [reason.split(":")[0].split(" ")[0] for _, _, reason in recs]


def test_switching_follows_the_history_the_user_has(conn, db_url):
    load(conn)
    runner.train(db_url, ["ease", "content"], FAST)
    history(conn, "one", "s1")
    history(conn, "many", "s1", "s2", "s3", "s4", "s5", "s6")
    assert set(switching(conn, "nobody")) == {"popular"}
    assert switching(conn, "one")[0] == "behavior_based"
    assert switching(conn, "many")[0] == "collaborative"
    # Each reason says which strategy produced it, then why.
    [first] = rows(conn, "select reason from recsys.hybrid('many', 1, method => 'switching')")
    assert first[0].startswith("collaborative: liked by people who liked")


def test_switching_without_a_model_uses_the_latest_items(conn, db_url):
    load(conn)
    history(conn, "many", "s1", "s2", "s3", "s4", "s5", "s6")
    assert switching(conn, "many")[0] == "behavior_based"


def test_adaptive_before_training_uses_the_default_weights(conn):
    load(conn)
    defaults = rows(conn, "select recsys.default_hybrid_weights()")[0][0]
    for n, bucket in [(0, "0"), (3, "1-4"), (7, "5-19"), (50, "20+")]:
        assert rows(conn, "select recsys.hybrid_weights(%s)", n)[0][0] == defaults[bucket]
    recs = rows(conn, "select * from recsys.recommend('nobody', 10)")
    assert len(recs) == 10 and all(r.startswith("popular") for _, _, r in recs)


def test_adaptive_weights_come_from_the_active_run(conn, db_url):
    load(conn)
    outcomes = runner.train(db_url, ["all"], FAST)
    assert [o.role for o in outcomes] == ["implicit", "content", "hybrid"]
    run = outcomes[-1]
    params = rows(conn, "select params from recsys.model_runs where id = %s", run.run_id)[0][0]
    assert set(params["weights"]) == {"0", "1-4", "5-19", "20+"}
    for weights in params["weights"].values():
        assert sum(weights.values()) == pytest.approx(1)
    assert rows(conn, "select recsys.hybrid_weights(5)")[0][0] == params["weights"]["5-19"]
    history(conn, "me", "s1", "f2")

    def reasons_with(weights: dict[str, float]) -> set[str]:
        blend = {**params, "weights": {**params["weights"], "1-4": weights}}
        conn.execute(
            "update recsys.model_runs set params = %s where id = %s", (Jsonb(blend), run.run_id)
        )
        conn.commit()
        recs = rows(conn, "select * from recsys.recommend('me', 5)")
        assert len(recs) == 5
        return {" ".join(reason.split(" ")[:2]) for _, _, reason in recs}

    only = dict.fromkeys(hybrid.SOURCES, 0.0)
    assert reasons_with({**only, "content_based": 1.0}) == {"similar to"}
    assert reasons_with({**only, "popular": 1.0}) == {"popular"}
    assert reasons_with({**only, "collaborative": 1.0}) == {"liked by"}


def test_adaptive_blends_and_never_returns_seen_items(conn, db_url):
    load(conn)
    runner.train(db_url, ["all"], FAST)
    history(conn, "me", "s1", "s3", "s5")
    recs = rows(conn, "select * from recsys.recommend('me', 10, 'hybrid')")
    assert len(recs) == 10
    assert not {"s1", "s3", "s5"} & {p for p, _, _ in recs}
    scores = [s for _, s, _ in recs]
    assert scores == sorted(scores, reverse=True)
    assert {p for p, _, _ in recs[:5]} <= set(SPACE)
    food = rows(conn, "select * from recsys.recommend('me', 12, 'hybrid', category => 'food')")
    assert {p for p, _, _ in food} == set(FOOD)


def test_hybrid_training_fits_weights_per_bucket():
    grid = hybrid.simplex(0.25)
    assert len(grid) == 35 and all(sum(w.values()) == pytest.approx(1) for w in grid)


def test_switching_follows_the_order_the_hybrid_run_learned(conn, db_url):
    load(conn)
    outcomes = runner.train(db_url, ["all"], FAST)
    run = outcomes[-1]
    params = rows(conn, "select params from recsys.model_runs where id = %s", run.run_id)[0][0]
    assert set(params["switching"]) <= {"1-4", "5-19", "20+"}
    history(conn, "many", "s1", "s2", "s3", "s4", "s5", "s6")
    order = ["content_based", "collaborative", "behavior_based"]
    learned = {**params, "switching": {**params["switching"], "5-19": order}}
    conn.execute(
        "update recsys.model_runs set params = %s where id = %s", (Jsonb(learned), run.run_id)
    )
    conn.commit()
    assert switching(conn, "many")[0] == "content_based"
    # A strategy the history cannot support is skipped, whatever the order.
    history(conn, "one", "s1")
    learned["switching"]["1-4"] = ["collaborative", "content_based", "behavior_based"]
    conn.execute(
        "update recsys.model_runs set params = %s where id = %s", (Jsonb(learned), run.run_id)
    )
    conn.commit()
    assert switching(conn, "one")[0] == "content_based"
