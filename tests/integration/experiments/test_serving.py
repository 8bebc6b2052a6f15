"""serving.assign: the arms a user's request runs, the same from every app."""

from __future__ import annotations

from contextlib import AsyncExitStack

import psycopg
import pytest
from psycopg.rows import dict_row

from app import create_app
from app.experiments import serving, store
from tests.support.experiments import arm_of

ARMS = (
    store.ArmSpec("control", "popular", share=1),
    store.ArmSpec("treatment", "hybrid", "switching", {"category": "Comedy"}, share=3),
)


async def connect(db_url):
    return await psycopg.AsyncConnection.connect(db_url, row_factory=dict_row)


async def define(db_url, name="exp", mode="ab", arms=ARMS, start=True):
    async with await connect(db_url) as conn:
        await store.create(conn, store.Definition(name, mode, arms), start=start)


async def test_ab_gives_the_users_one_arm_as_the_hash_says(db_url):
    await define(db_url)
    async with await connect(db_url) as conn:
        for user in map(str, range(200)):
            assignment = await serving.assign(conn, "exp", user)
            assert assignment.experiment == "exp" and assignment.mode == "ab"
            [arm] = assignment.arms
            assert arm.name == arm_of("exp", user, [("control", 1), ("treatment", 3)])
    treatment = serving.Arm("treatment", "hybrid", "switching", {"category": "Comedy"})
    control = serving.Arm("control", "popular", None, {})
    assert arm in (treatment, control)


async def test_two_apps_on_one_database_assign_alike(db_url, tmp_path):
    await define(db_url)
    users = [f"user-{n}" for n in range(100)]
    async with AsyncExitStack() as stack:
        pools = []
        for n in range(2):
            app = create_app({"database_url": db_url, "data_dir": tmp_path / str(n)})
            await stack.enter_async_context(app.test_app())
            pools.append(app.extensions["recsys.shops"].default.pool)
        seen = []
        for pool in pools:
            async with pool.connection() as conn:
                seen.append([(await serving.assign(conn, "exp", u)).arms for u in users])
    assert seen[0] == seen[1]
    assert {arms[0].name for arms in seen[0]} == {"control", "treatment"}


async def test_interleaving_gives_both_arms_control_first(db_url):
    await define(db_url, mode="interleave")
    async with await connect(db_url) as conn:
        assignment = await serving.assign(conn, "exp", "42")
    assert assignment.mode == "interleave"
    assert [arm.name for arm in assignment.arms] == ["control", "treatment"]


async def test_unknown_and_not_running_experiments_raise(db_url):
    await define(db_url, start=False)
    async with await connect(db_url) as conn:
        with pytest.raises(serving.ExperimentNotFound, match="'nope'") as missing:
            await serving.assign(conn, "nope", "1")
        assert missing.value.field == "experiment"
        with pytest.raises(serving.InvalidExperiment, match="needs a user_id") as anonymous:
            await serving.assign(conn, "exp", "")
        assert anonymous.value.field == "user_id"
        with pytest.raises(serving.ExperimentNotRunning, match="draft") as draft:
            await serving.assign(conn, "exp", "1")
        assert draft.value.status == "draft"
        await store.start(conn, "exp")
        await store.stop(conn, "exp")
        with pytest.raises(serving.ExperimentNotRunning, match="stopped"):
            await serving.assign(conn, "exp", "1")
