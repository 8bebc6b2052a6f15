"""Scheduled training inside the service (REC_TRAIN_EVERY), one instance at a time.

Every instance wakes on the same period; a session-level Postgres advisory lock
lets one of them train and the others skip this round.
"""

from __future__ import annotations

import asyncio
import logging

from app.jobs import locks, periodic
from app.training import runner

log = logging.getLogger(__name__)


def train_if_free(url: str) -> bool:
    """Train every model unless another instance holds the lock; True if trained."""
    with locks.held_if_free(url, "training") as held:
        if not held:
            log.info("another instance is training; skipping this round")
            return False
        runner.train(url, ["all"], runner.Options(progress=False))
    return True


async def train_round(url: str) -> None:
    try:
        # A thread: fitting is CPU-bound and must not stall the event loop.
        await asyncio.to_thread(train_if_free, url)
    except runner.NoData as error:
        log.info("scheduled training skipped: %s", error)


async def every(url: str, seconds: float) -> None:
    """Train after each `seconds`; a failed round is logged and the next one tried."""
    await periodic.every(
        seconds, lambda: train_round(url), "scheduled training failed; active runs unchanged"
    )
