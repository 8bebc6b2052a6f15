"""Periodic retraining inside the service (REC_TRAIN_EVERY), one instance at a time.

Every instance wakes on the same period; a session-level Postgres advisory lock
lets one of them train and the others skip this round.
"""

from __future__ import annotations

import asyncio
import logging

import psycopg

from app.db import queries
from app.training import runner

log = logging.getLogger(__name__)


def train_if_free(url: str) -> bool:
    """Train every model unless another instance holds the lock; True if trained."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(queries.get("try_training_lock")).fetchone()
        if not (row and row[0]):
            log.info("another instance is training; skipping this round")
            return False
        try:
            runner.train(url, ["all"], runner.Options(progress=False))
        finally:
            conn.execute(queries.get("release_training_lock"))
    return True


async def every(url: str, seconds: float) -> None:
    """Train after each `seconds`; a failed round is logged and the next one tried."""
    while True:
        await asyncio.sleep(seconds)
        try:
            # A thread: fitting is CPU-bound and must not stall the event loop.
            await asyncio.to_thread(train_if_free, url)
        except runner.NoData as error:
            log.info("periodic training skipped: %s", error)
        except Exception:
            log.exception("periodic training failed; the active runs are unchanged")
