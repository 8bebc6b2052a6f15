"""`recsys serve --workers 2`: a scrape, whichever worker answers it, adds up
every worker's counts (prometheus-client's multiprocess mode), and the folder
the supervisor made for them is gone after shutdown."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx

from tests.support.metrics import value
from tests.support.served import free_port, until_up

TIMEOUT = 20
REQUESTS = 40


async def test_two_workers_report_one_sum(db_url, tmp_path):
    port = free_port()
    folder = tmp_path / "prom"
    env = {**os.environ, "REC_DATABASE_URL": db_url, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    folder.mkdir()
    (folder / "counter_999999.db").write_bytes(b"stale")  # a previous run's: removed at start
    process = await asyncio.create_subprocess_exec(
        Path(sys.executable).with_name("recsys"), "serve", "--no-migrate", "--port", str(port),
        "--workers", "2", env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        await until_up(url)
        # Fresh connections each time, so the kernel spreads them over both workers.
        for _ in range(REQUESTS):
            async with httpx.AsyncClient() as http:
                await http.get(url + "/items/none")
        files = {p.name for p in folder.glob("*.db")}
        pids = {name.rsplit("_", 1)[1] for name in files if name.startswith("counter_")}
        assert len(pids) == 2, files  # both workers counted something
        totals = []
        for _ in range(6):
            async with httpx.AsyncClient() as http:
                text = (await http.get(url + "/metrics")).text
            labels = {"route": "/items/<path:product_id>", "method": "GET", "status": "404"}
            totals.append(value(text, "recsys_http_requests_total", **labels))
        assert totals == [REQUESTS] * 6
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), TIMEOUT) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert "counter_999999.db" not in {p.name for p in folder.glob("*.db")}
    # Dead workers' live gauges are gone (mark_process_dead); counters remain.
    assert not list(folder.glob("gauge_livesum_*.db"))
