"""The mixed load: single events and batches from clients that retry until a 2xx,
recommendation reads and a health prober. Every event carries an `event_id`, so
the ledger can tell, key by key, what was acknowledged and what is stored."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from typing import Any

import httpx

from benchmarks.chaos.record import Record

EVENT_TYPES = ("view", "view", "view", "add_to_cart", "purchase")
CASES = ("behavior_based", "popular", "hybrid", "collaborative")
BATCH = 50
PAUSE = 0.05  # between a client's requests: the machine's cores are shared
TIMEOUT = 15.0


@dataclass
class Catalogue:
    users: int = 60
    items: int = 200
    watched: tuple[str, ...] = ()  # users with sockets: a share of events goes to them

    def event(self, rng: random.Random, key: str) -> dict[str, Any]:
        if self.watched and rng.random() < 0.2:
            user = rng.choice(self.watched)
        else:
            user = f"u{rng.randrange(self.users)}"
        return {
            "user_id": user,
            "product_id": f"p{int(rng.paretovariate(1.2)) % self.items}",
            "event_type": rng.choice(EVENT_TYPES),
            "event_id": key,
        }


def client(url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=url, timeout=TIMEOUT)


async def call(
    http: httpx.AsyncClient, record: Record, method: str, route: str, **kwargs: Any
) -> httpx.Response | None:
    """One request, its outcome recorded; None on a transport error."""
    started = time.monotonic()
    try:
        response = await http.request(method, route, **kwargs)
    except httpx.TransportError as error:
        record.outcome(f"{method} {route}", started, None, type(error).__name__)
        return None
    detail = response.text[:300] if response.status_code >= 400 else ""
    record.outcome(f"{method} {route}", started, response.status_code, detail)
    return response


async def deliver(
    http: httpx.AsyncClient, record: Record, route: str, body: dict[str, Any], keys: list[str]
) -> httpx.Response | None:
    """POST until a 2xx, as a shop's client with an outbox would; None if the
    answer was a 4xx (bad input is never retried, and is a finding here)."""
    record.sent.update(keys)
    attempt = 0
    while True:
        response = await call(http, record, "POST", route, json=body)
        if response is not None and response.is_success:
            record.acked.update(keys)
            record.retried += attempt > 0
            return response
        if response is not None and 400 <= response.status_code < 500:
            return None
        attempt += 1
        await asyncio.sleep(min(0.05 * 2**attempt, 1.0))


async def singles(url: str, n: int, record: Record, cat: Catalogue, stop: asyncio.Event) -> None:
    """POST /event, one keyed event at a time; now and then a deliberate redelivery
    of an acknowledged one, which must answer 200 duplicate."""
    rng = random.Random(f"single-{n}")
    done: list[dict[str, Any]] = []
    async with client(url) as http:
        for i in range(1_000_000_000):
            if stop.is_set():
                return
            if done and rng.random() < 0.05:
                again = await deliver(http, record, "/event", rng.choice(done), [])
                record.redeliveries += 1
                record.redelivered_not_duplicate += again is not None and again.status_code != 200
            else:
                body = cat.event(rng, f"s{n}-{i}")
                if await deliver(http, record, "/event", body, [body["event_id"]]):
                    done = [*done[-50:], body]
            await asyncio.sleep(PAUSE)


async def batches(url: str, n: int, record: Record, cat: Catalogue, stop: asyncio.Event) -> None:
    """POST /events, BATCH keyed events at a time, retried whole."""
    rng = random.Random(f"batch-{n}")
    async with client(url) as http:
        for i in range(1_000_000_000):
            if stop.is_set():
                return
            events = [cat.event(rng, f"b{n}-{i}-{j}") for j in range(BATCH)]
            keys = [e["event_id"] for e in events]
            response = await deliver(http, record, "/events", {"events": events}, keys)
            if response is not None:
                counts = response.json()
                record.batch_miscounts += counts["inserted"] + counts["duplicates"] != BATCH
            await asyncio.sleep(PAUSE * 4)


async def reads(url: str, n: int, record: Record, cat: Catalogue, stop: asyncio.Event) -> None:
    """GET /recommend for random users and cases."""
    rng = random.Random(f"read-{n}")
    async with client(url) as http:
        while not stop.is_set():
            params = {"user_id": f"u{rng.randrange(cat.users)}", "case": rng.choice(CASES)}
            await call(http, record, "GET", "/recommend", params=params)
            await asyncio.sleep(PAUSE)


async def probe(url: str, record: Record, stop: asyncio.Event, every: float = 0.25) -> None:
    """GET /health every `every` seconds: the unavailability figures."""
    async with httpx.AsyncClient(base_url=url, timeout=2.0) as http:
        while not stop.is_set():
            response = await call(http, record, "GET", "/health")
            record.health.append((time.monotonic(), response is not None and response.is_success))
            await asyncio.sleep(every)
