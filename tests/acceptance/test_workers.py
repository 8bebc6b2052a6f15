"""`recsys serve --workers 2` replaces a worker that dies (SIGKILL, OOM)."""

from __future__ import annotations

import time

import httpx

from benchmarks.chaos.service import Service


def replacements(service: Service, gone: set[int], count: int, seconds: float = 60) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        workers = service.workers()
        if len(workers) == count and not gone & set(workers):
            return workers
        time.sleep(0.05)
    raise AssertionError(f"workers {gone} not replaced: {service.workers()}")


def test_a_killed_worker_is_replaced(db_url, tmp_path):
    service = Service(db_url, tmp_path, workers=2)
    try:
        first = service.workers()
        assert len(first) == 2
        # Both, one after the other: the service never stays short of workers.
        for victim in first:
            service.kill(victim)
            replacements(service, {victim}, 2)
        assert not set(first) & set(service.workers())
        for _ in range(20):  # every answer comes from a replacement
            assert httpx.get(service.url + "/health", timeout=30).status_code == 200
    finally:
        assert service.stop() == 0


def test_the_supervisor_stops_while_a_replacement_waits_for_the_database(tmp_path):
    # A worker started during an outage waits for PostgreSQL in its startup,
    # where it has no drain to do: SIGTERM to `recsys serve` still ends it.
    from app.db import migrate
    from benchmarks.chaos.postgres import Postgres

    pg = Postgres()
    try:
        migrate.upgrade(pg.url)
        service = Service(pg.url, tmp_path, workers=2)
        try:
            pg.crash()
            victim = service.workers()[0]
            service.kill(victim)
            replacements(service, {victim}, 2)
        finally:
            assert service.stop() == 0
    finally:
        pg.cleanup()
