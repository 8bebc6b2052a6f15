"""One soak: start a crashable PostgreSQL and `recsys serve --workers 2`, run the
load and the faults for `minutes`, drain, check, report."""

from __future__ import annotations

import asyncio
import contextlib
import random
import shutil
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from app.db import migrate
from benchmarks.chaos import faults, load, sockets, verify
from benchmarks.chaos.postgres import Postgres
from benchmarks.chaos.record import Record
from benchmarks.chaos.service import Service

DRAIN = 120.0  # seconds the pending deliveries get once the faults stop


@dataclass(frozen=True)
class Plan:
    minutes: float = 1.0
    keep_log: str | None = None  # copy `recsys serve`'s output here
    seed: int = 18
    singles: int = 4  # clients posting single events
    batchers: int = 1  # clients posting batches
    readers: int = 2
    ws: int = 3  # /ws subscribers
    socketio: int = 1
    # Mean seconds between faults of each kind (each uniform 0.5x-1.5x that).
    postgres_every: float = 20.0
    worker_every: float = 12.0
    listener_every: float = 9.0


def run(plan: Plan) -> dict[str, Any]:
    """The soak's report (see report.md keys in docs/reliability.md)."""
    pg = Postgres()
    try:
        migrate.upgrade(pg.url)
        service = Service(pg.url, pg.root)
        try:
            return asyncio.run(_soak(plan, pg, service))
        finally:
            service.stop()
            if plan.keep_log:
                shutil.copyfile(service.log_path, plan.keep_log)
    finally:
        pg.cleanup()


async def _soak(plan: Plan, pg: Postgres, service: Service) -> dict[str, Any]:
    record, rng = Record(), random.Random(plan.seed)
    subs = [sockets.Subscriber(f"watch{i}", "ws") for i in range(plan.ws)]
    subs += [sockets.Subscriber(f"watch-sio{i}", "socketio") for i in range(plan.socketio)]
    cat = load.Catalogue(watched=tuple(s.user_id for s in subs))
    stop_load, stop_faults, stop_probe = asyncio.Event(), asyncio.Event(), asyncio.Event()
    started = time.monotonic()
    listening = [asyncio.create_task(sockets.subscribe(s, service.url)) for s in subs]
    clients = [
        *(load.singles(service.url, i, record, cat, stop_load) for i in range(plan.singles)),
        *(load.batches(service.url, i, record, cat, stop_load) for i in range(plan.batchers)),
        *(load.reads(service.url, i, record, cat, stop_load) for i in range(plan.readers)),
    ]
    working = [asyncio.create_task(c) for c in clients]
    prober = asyncio.create_task(load.probe(service.url, record, stop_probe))
    clocks = [random.Random(rng.random()) for _ in range(3)]
    chaos = [
        faults.crash_postgres(pg, record, clocks[0], stop_faults, plan.postgres_every),
        faults.kill_workers(service, record, clocks[1], stop_faults, plan.worker_every),
        faults.terminate_listener(pg, record, clocks[2], stop_faults, plan.listener_every),
    ]
    faulting = [asyncio.create_task(c) for c in chaos]
    await asyncio.sleep(plan.minutes * 60)
    stop_faults.set()
    await asyncio.gather(*faulting)  # each ends with PostgreSQL up, workers replaced
    soaked = time.monotonic() - started
    stop_load.set()
    _, pending = await asyncio.wait(working, timeout=DRAIN)
    for task in pending:
        task.cancel()
    fresh = await asyncio.gather(
        *(sockets.pushed_after(s, stale_since(record, s, started), 30) for s in subs)
    )
    pushes = await _final_pushes(service.url, record, subs)
    stop_probe.set()
    await prober
    for task in listening:
        task.cancel()
    await asyncio.gather(*listening, return_exceptions=True)
    report = _report(plan, pg, record, subs, pushes, soaked, len(pending), started)
    report["sockets"]["pushed_after_last_fault"] = sum(fresh)
    report["timeline"] = timeline(record, subs, started)
    return report


def stale_since(record: Record, sub: sockets.Subscriber, origin: float) -> float:
    """Since when `sub` must get a list with no new event of its user needed: the
    last fault that can have cost it a notification, or its last connection
    (a killed worker's sockets register again on another one). PostgreSQL's
    restart and the listeners' termination cost every worker's listener its
    notifications; a worker's kill costs the other worker's sockets nothing."""
    marks = [origin, *sub.opened]
    for fault in record.faults:
        if fault.kind == "postgres":
            marks.append(fault.restarting or fault.started)  # down until then
        elif fault.kind == "listener":
            marks.append(fault.ended)
    return max(marks)


def timeline(record: Record, subs: list[sockets.Subscriber], origin: float) -> dict[str, Any]:
    """Seconds after the start: each fault, and each socket's connections and
    last pushes (what to read when a socket assertion fails)."""
    return {
        "faults": [
            f"{f.kind} {f.started - origin:.1f}-{f.ended - origin:.1f} {f.detail}".strip()
            for f in record.faults
        ],
        "sockets": {
            s.user_id: {
                "opened": [round(t - origin, 1) for t in s.opened],
                "last_pushes": [round(t - origin, 1) for t in s.pushes[-5:]],
                "stale_since": round(stale_since(record, s, origin) - origin, 1),
            }
            for s in subs
        },
    }


async def _final_pushes(url: str, record: Record, subs: list[sockets.Subscriber]) -> list[bool]:
    """Each socket, once registered again, gets a push for a new event of its user."""
    results = []
    async with load.client(url) as http:
        for sub in subs:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(sub.registered.wait(), 60)
            body = {"user_id": sub.user_id, "product_id": "final", "event_type": "view"}
            body["event_id"] = f"final-{sub.user_id}"
            acked = await load.deliver(http, record, "/event", body, [body["event_id"]])
            since = record.outcomes[-1].started if acked else time.monotonic()
            results.append(sub.registered.is_set() and await sockets.pushed_after(sub, since, 20))
    return results


def _report(
    plan: Plan,
    pg: Postgres,
    record: Record,
    subs: list[sockets.Subscriber],
    pushes: list[bool],
    soaked: float,
    stuck: int,
    origin: float,
) -> dict[str, Any]:
    worker_restarts = [f.ended - f.started for f in record.faults if f.kind == "worker"]
    outages = [f.ended - f.started for f in record.faults if f.kind == "postgres"]
    return {
        "plan": plan.__dict__,
        "seconds": round(soaked, 1),
        "events": verify.events(record, verify.stored_keys(pg.url)),
        "clients_stuck_after_drain": stuck,
        "faults": dict(record.faults_by_kind()),
        "listener_backends_terminated": sum(
            int(f.detail.split()[0]) for f in record.faults if f.kind == "listener"
        ),
        "longest_postgres_outage_s": round(max(outages, default=0.0), 2),
        "longest_worker_replacement_s": round(max(worker_restarts, default=0.0), 2),
        "longest_unavailability_s": round(record.longest_unavailability(), 2),
        "worst_unavailability": record.worst_gaps(origin),
        "http": verify.http(record),
        "sockets": {
            "subscribers": len(subs),
            "connections": sum(s.connections for s in subs),
            "pushes": sum(len(s.pushes) for s in subs),
            "drops": dict(sum((s.drops for s in subs), start=Counter())),
            "final_push_received": sum(pushes),
        },
        "count_differences": verify.count_differences(pg.url),
    }
