"""Push latency: N WebSockets each watch their own user; events are posted for
random watched users and the time from sending POST /event to that user's
`realtime_recommendation` frame is measured.

`posters` clients post at once, each for a user no other poster is waiting on,
so every frame answers exactly one event (the broker coalesces bursts per user).
"""

from __future__ import annotations

import asyncio
import json
import resource
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aiohttp
import orjson

from benchmarks.client import Request, Sample, send
from benchmarks.traffic import Picker

WAVE = 100  # sockets opened at once
FRAME_TIMEOUT = 10.0


@dataclass
class Watcher:
    user_id: str
    ws: aiohttp.ClientWebSocketResponse
    waiting: asyncio.Future[float] | None = None
    frames: int = 0


@dataclass
class Sockets:
    watchers: list[Watcher] = field(default_factory=list)
    readers: list[asyncio.Task[None]] = field(default_factory=list)


def raise_fd_limit() -> int:
    """Soft limit up to the hard one: 1 000 sockets need more than the usual 1 024
    fds. Called before the server is spawned, so it inherits the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


@asynccontextmanager
async def watching(base: str, users: list[str]) -> AsyncIterator[Sockets]:
    """Registered sockets for `users` while the block runs, closed after."""
    connector = aiohttp.TCPConnector(limit=0)  # one connection per socket
    async with aiohttp.ClientSession(base, connector=connector) as ws_session:
        sockets = await open_sockets(ws_session, users)
        try:
            yield sockets
        finally:
            await close(sockets)


def frames(sockets: Sockets) -> int:
    """Pushes received so far over every socket."""
    return sum(w.frames for w in sockets.watchers)


async def open_sockets(ws_session: aiohttp.ClientSession, users: list[str]) -> Sockets:
    """One registered socket per user, opened in waves, each past its first push."""
    sockets = Sockets()
    for start in range(0, len(users), WAVE):
        wave = users[start : start + WAVE]
        sockets.watchers += await asyncio.gather(*(register(ws_session, u) for u in wave))
    sockets.readers = [asyncio.create_task(read(w)) for w in sockets.watchers]
    return sockets


async def register(ws_session: aiohttp.ClientSession, user_id: str) -> Watcher:
    ws = await ws_session.ws_connect("/ws", max_msg_size=0)
    await ws.send_str(json.dumps({"event": "register_user", "data": {"user_id": user_id}}))
    while True:  # "registered", then the initial recommendation
        message = await ws.receive(timeout=30)
        if message.type != aiohttp.WSMsgType.TEXT:
            raise RuntimeError(f"/ws closed while registering {user_id}: {message.type!r}")
        if json.loads(message.data)["event"] == "realtime_recommendation":
            return Watcher(user_id, ws)


async def read(watcher: Watcher) -> None:
    async for message in watcher.ws:
        if message.type != aiohttp.WSMsgType.TEXT:
            continue
        if json.loads(message.data)["event"] != "realtime_recommendation":
            continue
        watcher.frames += 1
        if watcher.waiting is not None and not watcher.waiting.done():
            watcher.waiting.set_result(time.perf_counter())


async def close(sockets: Sockets) -> None:
    for task in sockets.readers:
        task.cancel()
    await asyncio.gather(*(w.ws.close() for w in sockets.watchers), return_exceptions=True)


async def measure(
    http: aiohttp.ClientSession,
    sockets: Sockets,
    picker: Picker,
    posters: int,
    seconds: float,
    warmup: float,
) -> Sample:
    """Closed loop of `posters` clients: post, wait for the frame, repeat. The
    one measurement of push latency: recsys bench's push phase and
    benchmarks.push_latency both run it."""
    idle: asyncio.Queue[Watcher] = asyncio.Queue()
    for index in picker.rng.permutation(len(sockets.watchers)):
        idle.put_nowait(sockets.watchers[int(index)])
    sample = Sample(started=time.perf_counter() + warmup)
    deadline = sample.started + seconds

    async def poster() -> None:
        while time.perf_counter() < deadline:
            watcher = await idle.get()
            await one(http, watcher, picker, sample)
            idle.put_nowait(watcher)

    await asyncio.gather(*(poster() for _ in range(min(posters, len(sockets.watchers)))))
    return sample


async def one(
    http: aiohttp.ClientSession, watcher: Watcher, picker: Picker, sample: Sample
) -> None:
    [event] = picker.events(1, [watcher.user_id])
    watcher.waiting = asyncio.get_running_loop().create_future()
    start = time.perf_counter()
    error = await send(http, Request("POST", "/event", orjson.dumps(event), (201, 200), 1))
    try:
        received = await asyncio.wait_for(watcher.waiting, FRAME_TIMEOUT)
    except TimeoutError:
        error = error or f"no push for {watcher.user_id} within {FRAME_TIMEOUT:g}s"
        received = time.perf_counter()
    finally:
        watcher.waiting = None
    sample.record(start, received, error, 1)
