"""REC_TRAIN_EVERY: the service retrains in the background, and stops cleanly."""

from __future__ import annotations

import asyncio

import psycopg

from app import create_app
from tests.support.training import load, views_of_groups


async def test_the_service_retrains_on_its_period(db_url, conn, tmp_path):
    load(conn, views_of_groups())
    app = create_app({"database_url": db_url, "data_dir": tmp_path, "train_every": 0.2})
    async with app.test_app():
        jobs = app.extensions["recsys.shops"].default.jobs
        for _ in range(100):
            await asyncio.sleep(0.2)
            with psycopg.connect(db_url) as check:
                runs = check.execute(
                    "select count(*) from recsys.model_runs where status = 'ready'"
                ).fetchone()
            if runs and runs[0] >= 2:
                break
    assert runs is not None and runs[0] >= 2
    assert jobs.tasks["training"].cancelled()
    assert "recsys.jobs" not in app.extensions
