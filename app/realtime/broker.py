"""In-process fan-out: one bounded queue per socket, one refresh per user at a time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

Message = dict[str, Any]
Fetch = Callable[[str], Awaitable[Message]]

QUEUE_SIZE = 8
# A refresh that fails (the database is down or restarting) is retried, its
# pause doubling from RETRY_FIRST to RETRY_MAX, for up to RETRY_FOR seconds:
# the notification that asked for it will not come again, so giving up at once
# would leave the user's sockets showing a stale list.
RETRY_FIRST = 0.1
RETRY_MAX = 2.0
RETRY_FOR = 60.0


@dataclass
class PushStats:
    """Totals over every socket of the process, read by app/metrics/sampler.py."""

    sent: int = 0  # handed to a socket's sender
    dropped: int = 0
    retries: int = 0  # refreshes tried again after a failure


class Subscription:
    """One socket's inbox. Full means the client is slow: the oldest push is
    dropped, because only the newest recommendations matter."""

    def __init__(self, user_id: str, stats: PushStats | None = None) -> None:
        self.user_id = user_id
        self._queue: asyncio.Queue[Message] = asyncio.Queue(QUEUE_SIZE)
        self.dropped = 0
        self._stats = stats or PushStats()

    def put(self, message: Message) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
            self._stats.dropped += 1
        self._queue.put_nowait(message)

    async def get(self) -> Message:
        message = await self._queue.get()
        self._stats.sent += 1
        return message


class Broker:
    """Tracks who watches which user and refreshes their recommendations on demand."""

    def __init__(self, fetch: Fetch) -> None:
        self._fetch = fetch
        self._subscribers: dict[str, set[Subscription]] = {}
        self._running: dict[str, asyncio.Task[None]] = {}
        self._dirty: set[str] = set()
        self.stats = PushStats()

    def subscribe(self, user_id: str) -> Subscription:
        subscription = Subscription(user_id, self.stats)
        self._subscribers.setdefault(user_id, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        watchers = self._subscribers.get(subscription.user_id)
        if watchers is not None:
            watchers.discard(subscription)
            if not watchers:
                del self._subscribers[subscription.user_id]

    def users(self) -> list[str]:
        return list(self._subscribers)

    def notify(self, user_id: str) -> None:
        """Something changed for user_id: refresh once, coalescing bursts."""
        if user_id not in self._subscribers:
            return  # nobody watches: costs nothing
        if user_id in self._running:
            self._dirty.add(user_id)  # the running refresh will go once more
            return
        self._running[user_id] = asyncio.create_task(self._refresh(user_id))

    def notify_all(self) -> None:
        for user_id in self.users():
            self.notify(user_id)

    async def _refresh(self, user_id: str) -> None:
        try:
            while True:
                self._dirty.discard(user_id)
                message = await self._fetch_retrying(user_id)
                if message is None:
                    return
                for subscription in self._subscribers.get(user_id, ()):
                    subscription.put(message)
                if user_id not in self._dirty:
                    return
        finally:
            del self._running[user_id]

    async def _fetch_retrying(self, user_id: str) -> Message | None:
        """The user's message; None once nobody watches or RETRY_FOR has passed."""
        loop = asyncio.get_running_loop()
        pause, deadline = RETRY_FIRST, loop.time() + RETRY_FOR
        while True:
            try:
                return await self._fetch(user_id)
            except Exception:
                if user_id not in self._subscribers or loop.time() + pause > deadline:
                    log.exception("refreshing recommendations for %s failed; giving up", user_id)
                    return None
                log.warning("refreshing recommendations for %s failed; retrying", user_id)
            self.stats.retries += 1
            await asyncio.sleep(pause)
            pause = min(pause * 2, RETRY_MAX)

    async def close(self) -> None:
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
