"""Periodic retention inside `recsys serve` (REC_RETENTION_DAYS), one instance at a time."""

from __future__ import annotations

import asyncio

from app import periodic
from app.db import retention

# Events age by the hour at most between rounds: a finer period buys nothing.
PRUNE_EVERY = 3600.0


async def every(url: str, older_than_days: float, seconds: float = PRUNE_EVERY) -> None:
    """Prune at start, then after each `seconds`; a failed round is logged and retried."""
    # A thread: a prune is many blocking statements; the loop keeps serving.
    await periodic.every(
        seconds,
        lambda: asyncio.to_thread(retention.prune_if_free, url, older_than_days),
        "retention round failed; the next one retries",
        at_start=True,
    )
