"""Training runs in the database: activation, rollback, failure, live scoring."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest

from app.training import runner, selection, store
from tests.support.events import at, ingest
from tests.support.training import GROUP_A, GROUP_B, load, taste_ratings, views_of_groups

FAST = runner.Options(
    progress=False,
    params={
        "svd": {"n_factors": 4, "n_epochs": 60, "lr_all": 0.02, "reg_all": 0.05},
        "ease": {"lam": 1.0, "n_neighbors": 10},
    },
)


def active(conn) -> dict[str, int]:
    conn.rollback()
    rows = conn.execute("select role, id from recsys.model_runs where active").fetchall()
    conn.rollback()
    return dict(rows)


def collaborative(conn, user: str, k: int = 5) -> list[tuple[str, float, str]]:
    conn.rollback()
    rows = conn.execute("select * from recsys.collaborative(%s, %s)", (user, k)).fetchall()
    conn.rollback()
    return rows


def test_train_all_writes_and_activates_both_roles(conn, db_url):
    load(conn, taste_ratings())
    outcomes = runner.train(db_url, ["all"], FAST)
    assert [(o.kind, o.role) for o in outcomes] == [
        ("svd", "explicit"),
        (outcomes[1].kind, "implicit"),  # the model validation chose
        ("hybrid", "hybrid"),  # no item has text: no content run
    ]
    assert outcomes[1].kind in selection.AUTO
    assert active(conn) == {o.role: o.run_id for o in outcomes}
    run = conn.execute("select * from recsys.model_runs where kind = 'svd'").fetchone()
    svd = outcomes[0]
    assert svd.data["users"] == 24 and svd.data["rating_min"] >= 1 and svd.data["rating_max"] <= 5
    assert svd.metrics["rmse"] < svd.metrics["rmse_global_mean"]
    assert run is not None
    counts = conn.execute(
        "select (select count(*) from recsys.user_factors),"
        " (select count(*) from recsys.item_factors),"
        " (select count(*) from recsys.item_neighbors)"
    ).fetchone()
    assert counts[0] == 24 and counts[1] == 16 and counts[2] > 0


def test_collaborative_follows_live_history_without_retraining(conn, db_url):
    load(conn, views_of_groups())
    runner.train(db_url, ["ease"], FAST)
    load(conn, [("fresh", "a0", "view", None, at(1000))])
    first = collaborative(conn, "fresh")
    assert {p for p, _, _ in first} <= set(GROUP_A)
    assert all(r.startswith("liked by people who liked") for _, _, r in first)
    # One click on a b-item brings b-items into the list; no training in between.
    load(conn, [("fresh", "b0", "purchase", None, at(1001))])
    second = collaborative(conn, "fresh")
    assert second != first
    assert {p for p, _, _ in second} & set(GROUP_B)
    assert "a0" not in {p for p, _, _ in second} and "b0" not in {p for p, _, _ in second}


def test_unknown_user_gets_popular_items_and_is_told(conn, db_url):
    load(conn, views_of_groups())
    runner.train(db_url, ["ease"], FAST)
    recs = collaborative(conn, "stranger", k=5)
    assert len(recs) == 5
    assert all(r.endswith("(new user)") for _, _, r in recs)


def test_activation_is_atomic(conn, db_url):
    load(conn, views_of_groups())
    first = runner.train(db_url, ["ease"], FAST)[0].run_id
    before = collaborative(conn, "u0", k=5)
    with psycopg.connect(db_url) as writer:
        run_id = store.create_run(writer, "ease", "implicit", {"weighting": "binary"})
        writer.commit()
        writer.execute(
            "insert into recsys.item_neighbors select %s, item_id, neighbor_id, -score"
            " from recsys.item_neighbors where run_id = %s",
            (run_id, first),
        )
        store.finish(writer, run_id, {}, {}, 0.0)
        # Written and activated but not committed: readers still see the old run whole.
        assert active(conn) == {"implicit": first}
        assert collaborative(conn, "u0", k=5) == before
        writer.commit()
    assert active(conn) == {"implicit": run_id}
    assert collaborative(conn, "u0", k=5) != before


def test_failed_training_leaves_the_previous_run_active(conn, db_url, monkeypatch):
    load(conn, taste_ratings())
    good = runner.train(db_url, ["svd"], FAST)[0].run_id

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "index_item_factors", broken, raising=False)
    monkeypatch.setattr(runner, "write", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        runner.train(db_url, ["svd"], FAST)
    assert active(conn) == {"explicit": good}
    failed = conn.execute(
        "select status, error, active from recsys.model_runs where id <> %s", (good,)
    ).fetchone()
    assert failed == ("failed", "RuntimeError: disk full", False)
    assert conn.execute("select count(distinct run_id) from recsys.user_factors").fetchone() == (1,)


def test_previous_run_can_be_reactivated_and_old_runs_are_pruned(conn, db_url):
    load(conn, taste_ratings())
    options = runner.Options(progress=False, validate=False, keep=1, params=FAST.params)
    ids = [runner.train(db_url, ["svd"], options)[0].run_id for _ in range(3)]
    conn.rollback()
    kept = [r[0] for r in conn.execute("select id from recsys.model_runs order by id").fetchall()]
    assert kept == ids[1:]  # the active run and one more
    assert store.activate(conn, ids[1]) == (ids[1], "svd", "explicit")
    conn.commit()
    assert active(conn) == {"explicit": ids[1]}
    indexes = conn.execute(
        "select indexname from pg_indexes where indexname like 'item_factors_hnsw_%' order by 1"
    ).fetchall()
    assert indexes == [(f"item_factors_hnsw_{i}",) for i in ids[1:]]


def test_training_without_data_says_so(db_url):
    with pytest.raises(runner.NoData):
        runner.train(db_url, ["all"], FAST)


def test_ratings_are_not_required_for_the_implicit_model(conn, db_url):
    load(conn, views_of_groups())
    assert [o.role for o in runner.train(db_url, ["all"], FAST)] == ["implicit", "hybrid"]
    ingest(conn, [("u0", "a1", "view", None, None)])


def test_the_model_that_ranked_better_on_validation_goes_first(conn, db_url):
    load(conn, taste_ratings())
    runner.train(db_url, ["svd", "ease"], FAST)
    load(conn, [("fresh", "a0", "rating", 5.0, at(1000))])
    conn.execute(
        "update recsys.model_runs set metrics = metrics || jsonb_build_object('ndcg_at_10',"
        " case role when 'explicit' then 0.9 else 0.1 end)"
    )
    conn.commit()
    # "fresh" has no factors (it came after training): neighbours serve it.
    assert collaborative(conn, "fresh")[0][2].startswith("liked by people who liked")
    assert collaborative(conn, "u0")[0][2] == "matches your taste (svd model)"
    # Without validation figures on both sides, neighbours go first.
    conn.execute("update recsys.model_runs set metrics = '{}' where role = 'implicit'")
    conn.commit()
    assert collaborative(conn, "u0")[0][2].startswith("liked by people who liked")


def test_collaborative_ranks_every_candidate_when_the_best_are_unavailable(conn, db_url):
    rng = np.random.default_rng(5)
    items = rng.zipf(1.3, 4000) % 300
    users = rng.integers(0, 40, 4000)
    ingest(
        conn,
        [
            (f"u{u}", f"p{i}", "view", None, at(n / 10))
            for n, (u, i) in enumerate(zip(users, items, strict=True))
        ],
    )
    conn.commit()
    runner.train(db_url, ["ease"], runner.Options(progress=False, params={"ease": {"lam": 1.0}}))
    ranked = [r[0] for r in collaborative(conn, "u1", 1000) if r[2].startswith("liked by")]
    seen = conn.execute("select n_items from recsys.users where external_id = 'u1'").fetchone()[0]
    cap = 3 + 10 + seen  # k + exclude + margin + history: the first pass's candidates
    assert len(ranked) > cap + 3  # else the first pass could not run short
    conn.execute(
        "update recsys.items set available = false where external_id = any(%s)", (ranked[:cap],)
    )
    conn.commit()
    top = collaborative(conn, "u1", 3)
    assert [r[0] for r in top] == ranked[cap : cap + 3]
    assert all(r[2].startswith("liked by") for r in top)
