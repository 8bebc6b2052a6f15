"""The loop every background round runs on: work, sleep, repeat until cancelled."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def every(
    seconds: float, work: Callable[[], Awaitable[object]], failure: str, at_start: bool = False
) -> None:
    """Run `work` each `seconds` (first at once if `at_start`) until cancelled; a
    failed round is logged with `failure` and the next one tried."""
    if not at_start:
        await asyncio.sleep(seconds)
    while True:
        try:
            await work()
        except Exception:
            log.exception(failure)
        await asyncio.sleep(seconds)
