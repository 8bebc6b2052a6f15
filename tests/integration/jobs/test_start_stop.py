"""app.jobs: `start` runs exactly the rounds the settings enable, `stop` ends them all."""

from __future__ import annotations

import asyncio

import pytest

from app import jobs
from app.config import Settings
from app.db.pool import open_pool

ROUNDS = {"neighbor_refresh", "retention", "training"}


def settings_enabling(db_url: str, rounds: set[str]) -> Settings:
    # Periods of an hour: no round but retention (which prunes at once) works here.
    return Settings(
        database_url=db_url,
        neighbor_refresh=3600.0 if "neighbor_refresh" in rounds else None,
        retention_days=30 if "retention" in rounds else None,
        train_every=3600.0 if "training" in rounds else None,
    )


@pytest.mark.parametrize(
    "rounds", [set(), {"neighbor_refresh"}, {"retention"}, {"training"}, ROUNDS], ids=repr
)
async def test_start_runs_the_enabled_rounds_and_stop_cancels_them(db_url, rounds):
    pool = await open_pool(db_url, 1, 2)
    try:
        running = jobs.start(settings_enabling(db_url, rounds), pool, db_url)
        tasks = dict(running.tasks)
        assert set(tasks) == rounds
        await asyncio.sleep(0)  # each round begins: loops until cancelled
        assert not any(task.done() for task in tasks.values())
        await running.stop()
        assert all(task.cancelled() for task in tasks.values())
    finally:
        await pool.close()


async def test_the_service_starts_and_stops_its_rounds(db_url, tmp_path):
    from app import create_app

    app = create_app({"database_url": db_url, "data_dir": tmp_path, "neighbor_refresh": 3600.0})
    async with app.test_app():
        running = app.extensions["recsys.shops"].default.jobs
        assert set(running.tasks) == {"neighbor_refresh"}
    assert running.tasks["neighbor_refresh"].cancelled()
    assert all(shop.pool.closed for shop in app.extensions["recsys.shops"].all())
