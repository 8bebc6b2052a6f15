"""Periodic retention inside `recsys serve` (REC_RETENTION_DAYS), one instance at a time."""

from __future__ import annotations

import asyncio
import logging

from app.db import retention

log = logging.getLogger(__name__)

# Events age by the hour at most between rounds: a finer period buys nothing.
PRUNE_EVERY = 3600.0


async def every(url: str, older_than_days: float, seconds: float = PRUNE_EVERY) -> None:
    """Prune at start, then after each `seconds`; a failed round is logged and retried."""
    while True:
        try:
            # A thread: a prune is many blocking statements; the loop keeps serving.
            await asyncio.to_thread(retention.prune_if_free, url, older_than_days)
        except Exception:
            log.exception("retention round failed; the next one retries")
        await asyncio.sleep(seconds)
