"""The ASGI servers `recsys serve` can run (app/servers/), measured serving this
app side by side, with an empty Quart app under hypercorn as the yardstick.

One database (the bench's synthetic shop, small: popular needs no training),
then every server up at once on its own port, each `recsys serve --server NAME
--workers W`, plus `hypercorn benchmarks.empty_app:app --workers W`. Each round
measures every server in turn (GET /health, then a read case), so the load of
the machine falls on all of them alike; throughput and p99 are the medians over
rounds, and every ratio is against hypercorn's figure of the same round. App CPU
per request is the CPU time of the server's processes over the requests they
answered (PostgreSQL's share is not in it). Last, each server is checked for
what the contracts need: /ws registers and pushes, Socket.IO connects and
pushes, and SIGTERM closes an open socket with 1001 and exits 0.

    python -m benchmarks.servers [--rounds 3] [--seconds 8] [--workers 2] [--json PATH]
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import aiohttp

from app.servers import NAMES
from benchmarks import client, harness, procs, seed, traffic, workload

YARDSTICK = "empty-quart-hypercorn"
CASES = ("health", "popular")


def shop() -> workload.Workload:
    return workload.generate(workload.Spec(users=20_000, items=2_000, events=200_000, seed=7))


@contextmanager
def empty_app(workers: int) -> Iterator[tuple[str, int]]:
    port = harness.free_port()
    hypercorn = Path(sys.executable).with_name("hypercorn")
    command = [str(hypercorn), "--workers", str(workers), "--bind", f"127.0.0.1:{port}"]
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [*command, "benchmarks.empty_app:app"], cwd=root, stdout=log, stderr=log
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while not harness._healthy(base):
                if time.monotonic() > deadline or proc.poll() is not None:
                    log.seek(0)
                    sys.exit(f"the empty app did not start:\n{log.read().decode()[-2000:]}")
                time.sleep(0.2)
            yield base, proc.pid
        finally:
            harness._stop(proc)


async def measure(base: str, pid: int, requests: list[client.Request], s: Any) -> dict[str, Any]:
    sampler = procs.Sampler(pid)
    sampler.refresh()
    cpu0 = sampler.cpu()
    async with client.session(base, s.concurrency) as http:
        sample = await client.closed_loop(http, requests, s.concurrency, s.seconds, s.warmup)
    cpu = sampler.cpu() - cpu0
    done = len(sample.latencies_ms)
    return {
        "per_s": done / sample.seconds,
        "p50": harness.percentile(sample.latencies_ms, 50),
        "p99": harness.percentile(sample.latencies_ms, 99),
        "errors": sample.errors,
        "first_error": sample.first_error,
        # Counted over warm-up and window alike: requests of both.
        "cpu_us": 1e6 * cpu / max(done * (s.seconds + s.warmup) / s.seconds, 1),
    }


async def sockets_work(base: str) -> dict[str, Any]:
    """/ws and Socket.IO: registered and pushed to, within 10 s."""
    found: dict[str, Any] = {}
    async with aiohttp.ClientSession(base) as http:
        async with http.ws_connect("/ws") as ws:
            await ws.send_str(json.dumps({"event": "register_user", "data": {"user_id": "u1"}}))
            found["ws"] = await until(ws, lambda m: '"realtime_recommendation"' in m)
        async with http.ws_connect("/socket.io/?EIO=4&transport=websocket") as sio:
            await sio.send_str("40")
            await sio.send_str("42" + json.dumps(["register_user", {"user_id": "u1"}]))
            found["socketio"] = await until(sio, lambda m: "realtime_recommendation" in m)
    return found


async def until(ws: aiohttp.ClientWebSocketResponse, wanted: Any) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        message = await ws.receive(timeout=10)
        if message.type != aiohttp.WSMsgType.TEXT:
            return False
        if wanted(message.data):
            return True
    return False


async def shutdown_semantics(base: str, pid: int) -> dict[str, Any]:
    """SIGTERM with a registered socket open: its close code and the exit."""
    async with aiohttp.ClientSession(base) as http, http.ws_connect("/ws") as ws:
        await ws.send_str(json.dumps({"event": "register_user", "data": {"user_id": "u2"}}))
        await until(ws, lambda m: '"realtime_recommendation"' in m)
        started = time.monotonic()
        os.kill(pid, signal.SIGTERM)
        while not ws.closed:
            message = await ws.receive(timeout=15)
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                break
        return {"close_code": ws.close_code, "closed_after_s": round(time.monotonic() - started, 2)}


def exit_status(pid: int, seconds: float = 30) -> int | None:
    """The exit status of our child `pid` once it ends (None: still running)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    return None


def main(argv: list[str] | None = None) -> None:
    p = harness.parser(__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--servers", default=",".join(NAMES))
    s = p.parse_args(argv)
    names = [n for n in s.servers.split(",") if n]
    load_before = harness.load_average()
    shop_ = shop()
    picker = traffic.Picker(shop_, 7)
    popular = traffic.reads(traffic.case("popular"), picker)
    rounds: list[dict[str, dict[str, Any]]] = []
    checks: dict[str, Any] = {}
    with harness.postgres() as server_url:
        harness.banner(server_url)
        url = harness.fresh_database(server_url, "bench_servers")
        seed.load(url, shop_, progress=False)
        with ExitStack() as stack:
            served = {YARDSTICK: stack.enter_context(empty_app(s.workers))}
            for name in names:
                served[name] = stack.enter_context(
                    harness.served_process(url, s.workers, env={"REC_SERVER": name})
                )
            for r in range(s.rounds):
                rounds.append({})
                for name, (base, pid) in served.items():
                    for case in CASES if name != YARDSTICK else ("health",):
                        requests = traffic.health() if case == "health" else popular
                        got = asyncio.run(measure(base, pid, requests, s))
                        rounds[-1][f"{name} {case}"] = got
                        print(
                            f"round {r + 1} {name:>22} {case:>8}: {got['per_s']:7.0f}/s"
                            f" p99 {got['p99']:6.1f} ms, {got['cpu_us']:5.0f} us CPU/request,"
                            f" {got['errors']} errors",
                            flush=True,
                        )
            for name in names:
                base, pid = served[name]
                checks[name] = asyncio.run(sockets_work(base))
                checks[name] |= asyncio.run(shutdown_semantics(base, pid))
                checks[name]["exit_status"] = exit_status(pid)
                print(f"{name}: {checks[name]}", flush=True)
    out = summarise(rounds, checks, names)
    out |= {"uptime_before": load_before, "uptime_after": harness.load_average()}
    out |= {"machine": harness.machine(), "options": vars(s)}
    harness.write_json(s.json, out)


def summarise(
    rounds: list[dict[str, dict[str, Any]]], checks: dict[str, Any], names: list[str]
) -> dict[str, Any]:
    rows, table = {}, []
    for key in rounds[0]:
        per_s = [r[key]["per_s"] for r in rounds]
        vs_hyper = [
            r[key]["per_s"] / r[f"hypercorn {key.split()[1]}"]["per_s"]
            for r in rounds
            if f"hypercorn {key.split()[1]}" in r
        ]
        vs_empty = [r[key]["per_s"] / r[f"{YARDSTICK} health"]["per_s"] for r in rounds]
        row = {
            "per_s": harness.median(per_s),
            "p99_ms": harness.median([r[key]["p99"] for r in rounds]),
            "cpu_us_per_request": harness.median([r[key]["cpu_us"] for r in rounds]),
            "x_hypercorn": harness.median(vs_hyper),
            "x_empty_quart_hypercorn": harness.median(vs_empty),
            "errors": sum(r[key]["errors"] for r in rounds),
        }
        rows[key] = row
        table.append([key, *row.values()])
    harness.print_table(
        f"medians of {len(rounds)} interleaved rounds",
        ["server case", "req/s", "p99 ms", "app CPU us/req", "x hypercorn", "x empty", "errors"],
        table,
    )
    harness.print_table(
        "contracts",
        ["server", "/ws push", "Socket.IO push", "SIGTERM close code", "closed after s", "exit"],
        [[n, *checks[n].values()] for n in names],
    )
    return {"rows": rows, "rounds": rounds, "checks": checks}


if __name__ == "__main__":
    main()
