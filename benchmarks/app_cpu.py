"""The app's own Python per request: the ASGI app (Guard, Socket.IO bridge,
Quart, every hook) called in this process with no server and no client, so the
CPU time per request is the web layer's and the SQL's client side only; with
--profile, a cProfile of the same loop (CPU clock), hottest first.

A small shop (popular needs no training; behavior_based scores live), one
request at a time; the figure is process CPU time over requests (PostgreSQL's
share is not in it). It is the yardstick for cuts in the web layer: far less
noisy than the HTTP benchmarks on a loaded machine.

    python -m benchmarks.app_cpu [--requests 2000] [--paths /health,popular,event]
        [--profile N] [--json PATH]

A path is a URL, a read case's name (traffic.CASES) or `event` (POST /event,
one event of a user drawn by activity; then the SQL's client side includes the
event's write and the list it answers with).
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import pstats
import random
import tempfile
import time
import uuid
from typing import Any

import uvloop

from benchmarks import harness, seed, traffic, workload
from benchmarks.client import Request

DEFAULT_PATHS = ("/health", "popular", "behavior_based")


def scope_of(method: str, path: str, body: bytes | None) -> dict[str, Any]:
    raw, _, query = path.partition("?")
    headers = [(b"host", b"127.0.0.1:5000"), (b"user-agent", b"bench"), (b"accept", b"*/*")]
    if body is not None:
        headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": raw,
        "raw_path": raw.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 5000),
        "state": {},
    }


async def call(app: Any, request: Request) -> int:
    status = 0
    sent = False
    done = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": request.body or b"", "more_body": False}
        await done.wait()  # as a server does: the client leaves once answered
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    await app(scope_of(request.method, request.url, request.body), receive, send)
    return status


def requests_for(name: str, picker: traffic.Picker, n: int) -> list[Request]:
    if name.startswith("/"):
        return [Request("GET", name)]
    if name == "event":
        return traffic.single_events(picker, n)
    case = traffic.case(name)
    keys = picker.user_ids(n) if case.by == "user" else picker.item_ids(n)
    return [Request("GET", case.path(k)) for k in keys]


async def run(url: str, names: list[str], s: Any) -> dict[str, Any]:
    from app import create_app

    picker = traffic.Picker(shop(), 5)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {"database_url": url, "data_dir": tmp, "neighbor_refresh": None, "log_format": "text"}
        )
        await app.startup()
        try:
            out = {}
            for name in names:
                requests = requests_for(name, picker, 50 + s.requests)
                for r in requests[:50]:  # warm-up: prepared statements, caches
                    status = await call(app, r)
                    assert status in r.ok, (r.url, status)
                rng = random.Random(1)
                order = [rng.choice(requests[50:] or requests) for _ in range(s.requests)]
                cpu0, wall0 = time.process_time(), time.perf_counter()
                for r in order:
                    await call(app, r)
                cpu = time.process_time() - cpu0
                wall = time.perf_counter() - wall0
                out[name] = {
                    "cpu_us_per_request": 1e6 * cpu / s.requests,
                    "wall_us_per_request": 1e6 * wall / s.requests,
                }
                print(
                    f"{name:>20}: {out[name]['cpu_us_per_request']:7.0f} us CPU/request,"
                    f" {out[name]['wall_us_per_request']:7.0f} us wall",
                    flush=True,
                )
                if s.profile:
                    await profile(app, order[: s.profile], name, s.top, s.sort)
            return out
        finally:
            await app.shutdown()


async def profile(app: Any, order: list[Request], name: str, top: int, sort: str) -> None:
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    try:
        for r in order:
            await call(app, r)
    finally:
        profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats(sort).print_stats(top)
    calls = stats.total_calls / max(len(order), 1)  # type: ignore[attr-defined]
    print(f"--- profile of {name} ({sort}): {calls:.0f} Python calls per request ---", flush=True)
    print(text.getvalue(), flush=True)


def shop() -> workload.Workload:
    return workload.generate(workload.Spec(users=2_000, items=500, events=20_000, seed=5))


def main(argv: list[str] | None = None) -> None:
    p = harness.parser(__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--paths", default=",".join(DEFAULT_PATHS))
    p.add_argument("--profile", type=int, default=0, help="profile this many requests per path")
    p.add_argument("--top", type=int, default=40)
    p.add_argument("--sort", default="tottime", help="pstats order: tottime, cumulative")
    s = p.parse_args(argv)
    names = [n for n in s.paths.split(",") if n]
    before = harness.load_average()
    with harness.postgres() as server_url:
        url = harness.fresh_database(server_url, f"bench_cpu_{uuid.uuid4().hex[:8]}")
        seed.load(url, shop(), progress=False)

        async def main_() -> dict[str, Any]:
            out = await run(url, names, s)
            return out

        # As `recsys serve` runs uvicorn: on uvloop.
        out = uvloop.run(main_())
    harness.write_json(
        s.json,
        {"paths": out, "uptime_before": before, "uptime_after": harness.load_average()},
    )


if __name__ == "__main__":
    main()
