"""store: create, list, get, and the lifecycle draft -> running -> stopped."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.rows import dict_row

from app.experiments import errors, store

ARMS = (store.ArmSpec("control", "popular"), store.ArmSpec("treatment", "hybrid", share=2.5))


async def connect(db_url, autocommit=False):
    return await psycopg.AsyncConnection.connect(
        db_url, row_factory=dict_row, autocommit=autocommit
    )


async def test_create_stores_the_definition_as_given(db_url):
    async with await connect(db_url) as conn:
        made = await store.create(conn, store.Definition("exp", "ab", ARMS, "homepage"))
    assert made.status == "draft" and made.started_at is None and made.description == "homepage"
    assert made.arms == (
        store.ArmSpec("control", "popular", None, {}, 1.0),
        store.ArmSpec("treatment", "hybrid", "adaptive", {}, 2.5),
    )
    async with await connect(db_url) as conn:
        assert await store.get(conn, "exp") == made
        assert [e.name for e in await store.list_all(conn)] == ["exp"]


async def test_the_lifecycle(db_url):
    # Autocommit: a refused step must leave the experiment as it was, not abort a transaction.
    async with await connect(db_url, autocommit=True) as conn:
        await store.create(conn, store.Definition("exp", "ab", ARMS))
        with pytest.raises(errors.ExperimentStateError, match="has not started"):
            await store.stop(conn, "exp")
        running = await store.start(conn, "exp")
        assert running.status == "running" and running.started_at is not None
        assert (await store.start(conn, "exp")).started_at == running.started_at
        stopped = await store.stop(conn, "exp")
        assert stopped.status == "stopped" and stopped.stopped_at is not None
        assert (await store.stop(conn, "exp")).stopped_at == stopped.stopped_at
        with pytest.raises(errors.ExperimentStateError, match="cannot run again"):
            await store.start(conn, "exp")


async def test_duplicates_and_unknown_names(db_url):
    async with await connect(db_url) as conn:
        await store.create(conn, store.Definition("exp", "ab", ARMS))
    async with await connect(db_url) as conn:
        with pytest.raises(errors.ExperimentExists):
            await store.create(conn, store.Definition("exp", "ab", ARMS))
    async with await connect(db_url, autocommit=True) as conn:
        for step in (store.get, store.start, store.stop):
            with pytest.raises(errors.ExperimentNotFound, match="'nope'"):
                await step(conn, "nope")


def test_start_checks_the_arms_in_sql_too(conn):
    # A definition written by hand from psql, past the Python checks.
    [(exp_id,)] = conn.execute(
        "insert into recsys.experiments (name, mode) values ('solo', 'ab') returning id"
    ).fetchall()
    conn.execute(
        "insert into recsys.experiment_arms (experiment_id, name, position, case_name)"
        " values (%s, 'only', 1, 'popular')",
        (exp_id,),
    )
    with pytest.raises(psycopg.errors.InvalidParameterValue, match='"solo" has 1 arms'):
        conn.execute("select recsys.start_experiment('solo')")
