"""The benchmarks' HTTP client: closed-loop load with aiohttp, `concurrency`
clients on one event loop, each sending its next pre-built request as soon as
the previous one is answered. Every benchmark that talks HTTP goes through it
(the WebSockets of the push measurement use the same library, in push.py).

The generator shares the cores with the server, so it stays cheap: one aiohttp
session (keep-alive), requests built before the clock starts, no JSON parsing
of the answers. Requests started during the warm-up are sent but not counted.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

JSON = {"content-type": "application/json"}


@dataclass(frozen=True)
class Request:
    method: str
    url: str  # path and query, relative to the base URL
    body: bytes | None = None
    ok: tuple[int, ...] = (200,)
    events: int = 0  # events the body carries (POST /event, POST /events)


@dataclass
class Sample:
    """What the clients saw in the measured window."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str | None = None
    events: int = 0
    started: float = 0.0  # perf_counter at the end of the warm-up
    ended: float = 0.0  # last answer of a counted request

    @property
    def seconds(self) -> float:
        return max(self.ended - self.started, 1e-9)

    def record(self, start: float, end: float, error: str | None, events: int) -> None:
        """One answer (or failure) of a request sent at `start`; ignored in the warm-up."""
        if start < self.started:
            return
        self.ended = max(self.ended, end)
        if error:
            self.errors += 1
            self.first_error = self.first_error or error[:300]
        else:
            self.latencies_ms.append((end - start) * 1000)
            self.events += events


def post_events(events: Sequence[dict[str, Any]]) -> Request:
    """POST /events of one batch (201 with its counts)."""
    return Request("POST", "/events", orjson.dumps({"events": list(events)}), (201,), len(events))


def session(
    base: str, connections: int, headers: dict[str, str] | None = None
) -> aiohttp.ClientSession:
    """`headers` go with every request (an API key, say)."""
    connector = aiohttp.TCPConnector(limit=connections, limit_per_host=connections)
    timeout = aiohttp.ClientTimeout(total=60)
    return aiohttp.ClientSession(base, connector=connector, timeout=timeout, headers=headers)


async def closed_loop(
    http: aiohttp.ClientSession,
    requests: Sequence[Request],
    concurrency: int,
    seconds: float = math.inf,
    warmup: float = 0.0,
    repeat: bool = True,
) -> Sample:
    """Run `concurrency` clients for warmup + seconds over `requests`, in turn;
    with `repeat` false, each request is sent once and the loop ends with them."""
    sample = Sample()
    now = time.perf_counter()
    sample.started = now + warmup
    deadline = sample.started + seconds
    turn = itertools.count()

    async def client() -> None:
        while (start := time.perf_counter()) < deadline:
            n = next(turn)
            if not repeat and n >= len(requests):
                return
            request = requests[n % len(requests)]
            error = await send(http, request)
            sample.record(start, time.perf_counter(), error, request.events)

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return sample


async def rate(
    base: str, requests: Sequence[Request], s: Any, headers: dict[str, str] | None = None
) -> dict[str, float]:
    """Requests per second, p99 ms and errors of `s.concurrency` closed-loop
    clients over `requests` for `s.seconds` after `s.warmup` (a benchmark's options)."""
    from benchmarks.harness import percentile

    async with session(base, s.concurrency, headers) as http:
        sample = await closed_loop(http, requests, s.concurrency, s.seconds, s.warmup)
    return {
        "per_s": len(sample.latencies_ms) / sample.seconds,
        "p99": percentile(sample.latencies_ms, 99),
        "errors": sample.errors,
    }


async def send(http: aiohttp.ClientSession, request: Request) -> str | None:
    """None when answered with an expected status, else what went wrong."""
    headers = JSON if request.body is not None else None
    try:
        async with http.request(
            request.method, request.url, data=request.body, headers=headers
        ) as response:
            body = await response.read()
            if response.status in request.ok:
                return None
            return f"{request.method} {request.url}: {response.status} {body[:200]!r}"
    except (aiohttp.ClientError, TimeoutError) as error:
        return f"{request.method} {request.url}: {type(error).__name__} {error}"
