"""The faults, each kind on its own random clock so that they overlap: PostgreSQL
crashed (immediate stop) and started again, a worker SIGKILLed (the supervisor
restarts it), the listeners' backends terminated.

The worker killed is the one that has run longest. A socket stays on the worker
that accepted it until that worker dies, so the old workers hold the sockets; a
random pick among the workers, listed newest first, took the replacement again
and again with the soak's seed (kill after kill in a one-minute run), and no
socket was ever closed by a kill."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time

import psycopg

from benchmarks.chaos.postgres import Postgres, terminate_listeners
from benchmarks.chaos.record import Fault, Record
from benchmarks.chaos.service import Service


async def pause(rng: random.Random, mean: float, stop: asyncio.Event) -> bool:
    """Wait about `mean` seconds (uniform 0.5x-1.5x); False if `stop` came first."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), rng.uniform(0.5, 1.5) * mean)
    return not stop.is_set()


async def crash_postgres(
    pg: Postgres, record: Record, rng: random.Random, stop: asyncio.Event, mean: float
) -> None:
    while await pause(rng, mean, stop):
        fault = Fault("postgres", time.monotonic())
        record.faults.append(fault)
        await asyncio.to_thread(pg.crash)
        down = rng.uniform(0.5, 4.0)
        await asyncio.sleep(down)
        # From here a query can succeed again: PostgreSQL accepts connections
        # some time before `start` returns (it polls for readiness).
        fault.restarting = time.monotonic()
        await asyncio.to_thread(pg.start)
        fault.ended = time.monotonic()
        fault.detail = f"down {fault.ended - fault.started:.1f} s"


async def kill_workers(
    service: Service, record: Record, rng: random.Random, stop: asyncio.Event, mean: float
) -> None:
    while await pause(rng, mean, stop):
        workers = service.workers()
        victim = service.oldest_worker()
        if victim is None:
            continue
        fault = Fault("worker", time.monotonic(), detail=f"pid {victim}")
        record.faults.append(fault)
        service.kill(victim)
        fault.ended = await _replaced(service, victim, len(workers))


async def _replaced(service: Service, victim: int, count: int, seconds: float = 60) -> float:
    """When the supervisor had `count` workers again, none of them `victim`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        workers = service.workers()
        if len(workers) >= count and victim not in workers:
            return time.monotonic()
        await asyncio.sleep(0.05)
    raise AssertionError(f"worker {victim} was not replaced within {seconds:.0f} s")


async def terminate_listener(
    pg: Postgres, record: Record, rng: random.Random, stop: asyncio.Event, mean: float
) -> None:
    while await pause(rng, mean, stop):
        started = time.monotonic()
        try:
            n = await asyncio.to_thread(terminate_listeners, pg.url)
        except psycopg.OperationalError:
            continue  # PostgreSQL is down: there is no backend to terminate
        if n:
            record.faults.append(Fault("listener", started, time.monotonic(), f"{n} backends"))
