"""Retention: delete events older than N days, keeping every aggregate exact.

recsys.prune_events does one batch of users per call and transaction, so a large
prune never holds one long transaction; `prune` loops until nothing is left.
`recsys db prune` runs it once; with REC_RETENTION_DAYS `recsys serve` runs it
at start and then every PRUNE_EVERY seconds, one instance at a time.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from app.db import retention
from app.jobs import locks, periodic

log = logging.getLogger(__name__)

BATCH_USERS = 500
BATCH_EXPOSURES = 10_000
# Events age by the hour at most between rounds: a finer period buys nothing.
PRUNE_EVERY = 3600.0


@dataclass(frozen=True)
class Pruned:
    users: int = 0
    events: int = 0
    batches: int = 0
    exposures: int = 0

    def add(self, users: int, events: int) -> Pruned:
        return replace(
            self, users=self.users + users, events=self.events + events, batches=self.batches + 1
        )


def cutoff(older_than_days: float, now: datetime | None = None) -> datetime:
    if older_than_days <= 0:
        raise ValueError(f"the retention must be a positive number of days, got {older_than_days}")
    return (now or datetime.now(UTC)) - timedelta(days=older_than_days)


def prune(
    url: str,
    older_than: datetime,
    max_users: int = BATCH_USERS,
    progress: Callable[[Pruned], None] | None = None,
    stop: threading.Event | None = None,
) -> Pruned:
    """Delete every event with ts < older_than, one committed batch of users at a
    time, then the exposures served before it; when `stop` is set, return after
    the batch in progress (the rest waits for the next prune, and every
    aggregate stays exact either way)."""
    done = Pruned()
    with psycopg.connect(url, autocommit=True) as conn:
        while stop is None or not stop.is_set():
            users, events = retention.prune_batch(conn, older_than, max_users)
            if users == 0:
                return prune_exposures(conn, older_than, done, stop)
            done = done.add(users, events)
            if progress is not None:
                progress(done)
    return done


def prune_exposures(
    conn: psycopg.Connection[Any], older_than: datetime, done: Pruned, stop: threading.Event | None
) -> Pruned:
    """The served lists older than the events kept go too, in short batches."""
    while stop is None or not stop.is_set():
        n = retention.prune_exposures_batch(conn, older_than, BATCH_EXPOSURES)
        if n == 0:
            break
        done = replace(done, exposures=done.exposures + n)
    return done


def prune_if_free(
    url: str, older_than_days: float, stop: threading.Event | None = None
) -> Pruned | None:
    """Prune unless another instance is pruning (advisory lock); None if skipped."""
    with locks.held_if_free(url, "prune") as held:
        if not held:
            log.info("another instance is pruning; skipping this round")
            return None
        done = prune(url, cutoff(older_than_days), stop=stop)
    log.info(
        "retention: %d events of %d users and %d exposures pruned",
        done.events,
        done.users,
        done.exposures,
    )
    return done


async def every(url: str, older_than_days: float, seconds: float = PRUNE_EVERY) -> None:
    """Prune at start, then after each `seconds`; a failed round is logged and retried.

    Cancelled (jobs.stop()), a prune in progress ends after its current batch:
    cancelling the task cannot stop its thread, the event can.
    """
    stop = threading.Event()
    try:
        # A thread: a prune is many blocking statements; the loop keeps serving.
        await periodic.every(
            seconds,
            lambda: asyncio.to_thread(prune_if_free, url, older_than_days, stop),
            "retention round failed; the next one retries",
            at_start=True,
        )
    finally:
        stop.set()
