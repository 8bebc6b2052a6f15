"""Push latency: POST /event sent -> realtime_recommendation frame received.

For each socket count N, N WebSockets each register their own user of a demo
shop; then events are posted one at a time for random watched users and the
time to that user's push is measured. A second phase posts events from
--posters concurrent clients for --seconds and counts pushes per second; a third
writes events straight through SQL (batches of 50 users), so the server process
does nothing but pushes, and counts the pushes per second it sustains.

    python -m benchmarks.push_latency --sockets 1,100,1000
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import websockets

from app.demo import load, shop
from benchmarks import harness

ITEMS = 500


@dataclass
class Watcher:
    user_id: str
    ws: Any
    frames: asyncio.Queue[float]


async def open_watcher(ws_url: str, user_id: str) -> Watcher:
    ws = await websockets.connect(ws_url, max_queue=None)
    await ws.send(json.dumps({"event": "register_user", "data": {"user_id": user_id}}))
    watcher = Watcher(user_id, ws, asyncio.Queue())
    pushes = 0
    while pushes < 1:  # "registered", then the initial recommendation
        pushes += json.loads(await ws.recv())["event"] == "realtime_recommendation"
    return watcher


async def read_frames(watcher: Watcher) -> None:
    async for raw in watcher.ws:
        if json.loads(raw)["event"] == "realtime_recommendation":
            watcher.frames.put_nowait(time.perf_counter())


def event(user_id: str, rng: random.Random) -> dict[str, str]:
    return {
        "user_id": user_id,
        "product_id": f"item-{rng.randrange(1, ITEMS + 1)}",
        "event_type": rng.choice(["view", "view", "add_to_cart", "purchase"]),
    }


async def latencies(
    http: httpx.AsyncClient, watchers: list[Watcher], samples: int, rng: random.Random
) -> list[float]:
    out = []
    for _ in range(samples):
        watcher = rng.choice(watchers)
        while not watcher.frames.empty():
            watcher.frames.get_nowait()
        start = time.perf_counter()
        response = await http.post("/event", json=event(watcher.user_id, rng))
        response.raise_for_status()
        received = await asyncio.wait_for(watcher.frames.get(), 10)
        out.append((received - start) * 1000)
    return out


async def throughput(
    http: httpx.AsyncClient,
    watchers: list[Watcher],
    seconds: float,
    posters: int,
    rng: random.Random,
) -> tuple[float, float]:
    """(events/s posted, pushes/s received) with `posters` closed-loop clients."""
    for w in watchers:
        while not w.frames.empty():
            w.frames.get_nowait()
    deadline = time.perf_counter() + seconds
    sent = 0

    async def poster() -> None:
        nonlocal sent
        while time.perf_counter() < deadline:
            (
                await http.post("/event", json=event(rng.choice(watchers).user_id, rng))
            ).raise_for_status()
            sent += 1

    start = time.perf_counter()
    await asyncio.gather(*(poster() for _ in range(posters)))
    await asyncio.sleep(0.5)  # let the last pushes arrive
    elapsed = time.perf_counter() - start
    pushes = sum(w.frames.qsize() for w in watchers)
    return sent / (elapsed - 0.5), pushes / elapsed


INGEST = "select recsys.ingest_events(%s::text[], %s::text[], %s::text[])"


async def push_capacity(
    url: str, watchers: list[Watcher], seconds: float, rng: random.Random
) -> float:
    """Pushes/s the server sustains when events arrive straight through SQL (no
    HTTP in the server process): batches of 50 events for distinct watched users."""
    for w in watchers:
        while not w.frames.empty():
            w.frames.get_nowait()
    start = time.perf_counter()
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        while time.perf_counter() - start < seconds:
            users = [w.user_id for w in rng.sample(watchers, min(50, len(watchers)))]
            items = [f"item-{rng.randrange(1, ITEMS + 1)}" for _ in users]
            await conn.execute(INGEST, (users, items, ["view"] * len(users)))
            await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)  # drain the last pushes
    return sum(w.frames.qsize() for w in watchers) / (time.perf_counter() - start)


async def run_one(
    base: str, url: str, sockets: int, samples: int, seconds: float, posters: int
) -> dict[str, Any]:
    rng = random.Random(sockets)
    ws_url = base.replace("http://", "ws://") + "/ws"
    watchers = []
    for start in range(0, sockets, 100):  # connect in waves, not a thundering herd
        wave = range(start + 1, min(start + 100, sockets) + 1)
        watchers += await asyncio.gather(*(open_watcher(ws_url, f"user-{i}") for i in wave))
    readers = [asyncio.create_task(read_frames(w)) for w in watchers]
    limits = httpx.Limits(max_connections=posters + 1)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:
        lat = await latencies(http, watchers, samples, rng)
        events_s, pushes_s = await throughput(http, watchers, seconds, posters, rng)
    sql_pushes_s = await push_capacity(url, watchers, seconds, rng)
    for task in readers:
        task.cancel()
    await asyncio.gather(*(w.ws.close() for w in watchers), return_exceptions=True)
    return {
        "sockets": sockets,
        **harness.summary(lat),
        "events_per_s": events_s,
        "pushes_per_s_sql_writer": sql_pushes_s,
        "pushes_per_s": pushes_s,
    }


def main() -> None:
    p = harness.parser(__doc__ or "")
    p.add_argument("--sockets", default="1,100,1000", help="comma-separated socket counts")
    p.add_argument("--samples", type=int, default=300, help="sequential latency samples")
    p.add_argument("--seconds", type=float, default=10, help="throughput phase length")
    p.add_argument("--posters", type=int, default=8, help="concurrent posting clients")
    p.add_argument("--users", type=int, default=2000, help="demo shop users")
    args = p.parse_args()
    results = []
    with harness.postgres() as server:
        for n in [int(x) for x in args.sockets.split(",")]:
            url = harness.fresh_database(server, f"bench_push_{n}")
            load.load(url, shop.generate(max(args.users, n), ITEMS, 10, seed=1))
            with harness.served_app(url) as base:
                results.append(
                    asyncio.run(run_one(base, url, n, args.samples, args.seconds, args.posters))
                )
    headers = [
        "sockets",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "mean ms",
        "HTTP events/s",
        "pushes/s",
        "pushes/s (SQL writer)",
    ]
    rows = [
        [
            r["sockets"],
            r["p50"],
            r["p95"],
            r["p99"],
            r["mean"],
            r["events_per_s"],
            r["pushes_per_s"],
            r["pushes_per_s_sql_writer"],
        ]
        for r in results
    ]
    harness.print_table("push latency: POST /event -> frame received", headers, rows)
    harness.write_json(
        args.json, {"benchmark": "push_latency", "machine": harness.machine(), "results": results}
    )


if __name__ == "__main__":
    main()
