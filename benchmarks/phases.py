"""Run the phases against a served app and collect one Result each."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import aiohttp

from benchmarks import client, harness, procs, push, traffic
from benchmarks.procs import Sampler
from benchmarks.workload import Workload

WRITES = ("event", "events")
PHASES = ("health", *traffic.READS, *WRITES, "push")


@dataclass(frozen=True)
class Settings:
    seconds: float = 10.0
    warmup: float = 2.0
    concurrency: int = 16
    batch: int = 1_000
    batch_clients: int = 2
    sockets: int = 1_000
    posters: int = 4
    soak: float = 0.0  # seconds of mixed load for the memory check (0: none)
    phases: tuple[str, ...] = PHASES
    seed: int = 42


@dataclass
class Result:
    name: str
    unit: str  # what throughput counts: requests, events or pushes
    requests: int
    errors: int
    seconds: float
    throughput: float  # requests/s (events/s for the batch phase)
    latency_ms: dict[str, float]
    client_cpu_s: float
    app_cpu_s: float
    rss_mib: dict[str, float]
    first_error: str | None = None
    machine_busy: float = math.nan  # cores busy on the whole machine, anyone's
    events_per_s: float | None = None
    vs_health: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list, repr=False)

    def public(self) -> dict[str, Any]:
        """Everything but the raw latencies (those go to the PNG only)."""
        return {k: v for k, v in asdict(self).items() if k != "latencies_ms"}


Measure = Callable[[], Awaitable[client.Sample]]


async def timed(name: str, unit: str, sampler: Sampler, measure: Measure) -> Result:
    """Run one phase, with the generator's and the app's CPU and the app's RSS."""
    sampler.refresh()
    cpu0, app0, t0 = time.process_time(), sampler.cpu(), time.monotonic()
    ticks = procs.machine_ticks()
    sampler.sample()
    sample = await measure()
    sampler.sample()
    busy = procs.machine_busy(ticks, procs.machine_ticks())
    rss = sampler.between(t0, time.monotonic())
    done = len(sample.latencies_ms)
    rate = (sample.events if unit == "events" else done) / sample.seconds
    return Result(
        name,
        unit,
        done,
        sample.errors,
        round(sample.seconds, 3),
        rate,
        harness.summary(sample.latencies_ms),
        round(time.process_time() - cpu0, 3),
        round(sampler.cpu() - app0, 3),
        {"start": rss[0], "end": rss[-1], "max": max(rss)} if rss else {},
        sample.first_error,
        round(busy, 2),
        sample.events / sample.seconds if sample.events else None,
        latencies_ms=sample.latencies_ms,
    )


async def run_all(
    base: str, workload: Workload, s: Settings, server_pid: int | None, say: Callable[[str], None]
) -> list[Result]:
    picker = traffic.Picker(workload, s.seed)
    sampler = Sampler(server_pid)
    sampling = asyncio.create_task(sampler.run())
    results: list[Result] = []
    try:
        async with client.session(base, s.concurrency) as http:
            for name in s.phases:
                say(f"phase {name}")
                results.append(await phase(name, http, base, picker, s, sampler))
                say(line(results[-1]))
            if s.soak:
                say(f"soak: mixed load for {s.soak:g}s")
                results.append(await soak(http, picker, s, sampler))
    finally:
        sampling.cancel()
    ratios(results)
    return results


async def phase(
    name: str,
    http: aiohttp.ClientSession,
    base: str,
    picker: traffic.Picker,
    s: Settings,
    sampler: Sampler,
) -> Result:
    def loop(requests: list[client.Request], clients: int) -> Measure:
        return lambda: client.closed_loop(http, requests, clients, s.seconds, s.warmup)

    if name == "health":
        return await timed(name, "requests", sampler, loop(traffic.health(), s.concurrency))
    if name in traffic.READS:
        reads = traffic.reads(traffic.case(name), picker)
        return await timed(name, "requests", sampler, loop(reads, s.concurrency))
    if name == "event":
        return await timed(
            name, "requests", sampler, loop(traffic.single_events(picker), s.concurrency)
        )
    if name == "events":
        # Enough distinct batches for 40 000 events/s: repeats would add no new pairs.
        n = max(8, math.ceil((s.seconds + s.warmup) * 40_000 / s.batch))
        batches = traffic.batches(picker, s.batch, n)
        return await timed(name, "events", sampler, loop(batches, s.batch_clients))
    return await push_phase(http, base, picker, s, sampler)


async def push_phase(
    http: aiohttp.ClientSession, base: str, picker: traffic.Picker, s: Settings, sampler: Sampler
) -> Result:
    users = list(dict.fromkeys(picker.user_ids(s.sockets * 4)))[: s.sockets]
    opened = time.perf_counter()
    async with push.watching(base, users) as sockets:
        took = time.perf_counter() - opened
        result = await timed(
            "push",
            "pushes",
            sampler,
            lambda: push.measure(http, sockets, picker, s.posters, s.seconds, s.warmup),
        )
    result.extra = {"sockets": len(users), "posters": s.posters, "open_seconds": round(took, 2)}
    return result


async def soak(
    http: aiohttp.ClientSession, picker: traffic.Picker, s: Settings, sampler: Sampler
) -> Result:
    """Mixed reads and POST /event for s.soak seconds: does the app's memory stay flat?"""
    mix = traffic.mixed(picker)
    warm = time.monotonic() + s.warmup
    result = await timed(
        "soak",
        "requests",
        sampler,
        lambda: client.closed_loop(http, mix, s.concurrency, s.soak, s.warmup),
    )
    # From the end of the warm-up: the pool and caches fill during it.
    window = [(round(t - warm, 1), mib) for t, mib in sampler.samples if t >= warm]
    if window:
        first, last = window[0][1], window[-1][1]
        result.rss_mib = {"start": first, "end": last, "max": max(m for _, m in window)}
        result.extra = {"rss_growth": last / first - 1, "rss_samples": window}
    return result


def ratios(results: list[Result]) -> None:
    """Each phase's requests/s as a multiple of GET /health's, measured in the same run."""
    health = next((r for r in results if r.name == "health"), None)
    if health is None or not health.throughput:
        return
    for r in results:
        if r.unit == "requests":
            r.vs_health = r.throughput / health.throughput


def line(r: Result) -> str:
    rate = f"{r.throughput:,.0f} {r.unit}/s"
    lat = r.latency_ms
    return (
        f"  {r.name}: {rate}, p50 {lat['p50']:.1f} / p99 {lat['p99']:.1f} ms,"
        f" {r.errors} errors" + (f" (first: {r.first_error})" if r.first_error else "")
    )
