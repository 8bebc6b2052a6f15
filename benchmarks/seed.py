"""Write events straight through SQL: bulk-load a workload (items through
recsys.upsert_items, events through the COPY staging path of `recsys import`,
one transaction per chunk so progress shows), or send event dicts to
recsys.ingest_events; then train."""

from __future__ import annotations

import io
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from tqdm import tqdm

from app.db import events as db_events
from app.db import queries
from benchmarks.workload import TYPES, Workload, item_rows, timestamps

CHUNK = 100_000


@dataclass(frozen=True)
class Loaded:
    events: int
    seconds: float
    events_per_s: float
    chunk_seconds: tuple[float, ...] = ()  # each CHUNK's COPY + ingest + commit
    train_seconds: float | None = None
    trained: tuple[str, ...] = ()


def load(url: str, workload: Workload, progress: bool = True) -> Loaded:
    """Items, then events in time order; every count maintained by the trigger."""
    started = time.perf_counter()
    chunks = []
    with psycopg.connect(url) as conn:
        conn.execute(queries.get("upsert_items"), {"items": Jsonb(item_rows(workload))})
        conn.commit()
        total = len(workload.event_user)
        with tqdm(total=total, unit="events", desc="load", disable=not progress) as bar:
            for start in range(0, total, CHUNK):
                stop = min(start + CHUNK, total)
                began = time.perf_counter()
                ingest_chunk(conn, workload, start, stop)
                chunks.append(round(time.perf_counter() - began, 2))
                bar.update(stop - start)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(queries.get("bench_analyze"))
        # What a running service has within REC_NEIGHBOR_REFRESH of the load:
        # without it the first phases would measure the cold, live-scored path.
        conn.execute(queries.get("refresh_neighbor_lists"), {"everything": True})
    seconds = time.perf_counter() - started
    return Loaded(total, seconds, total / seconds if seconds else 0.0, tuple(chunks))


def ingest_chunk(
    conn: psycopg.Connection[tuple[object, ...]], w: Workload, start: int, stop: int
) -> None:
    conn.execute(queries.get("create_event_staging"))
    with conn.cursor().copy(queries.get("copy_event_staging")) as copy:
        copy.write(staged_text(w, start, stop))
    conn.execute(queries.get("ingest_staged_events"))
    conn.commit()


def staged_text(w: Workload, start: int, stop: int) -> str:
    """Rows of the staging table (line, user, item, type, value, ts, event_id), tab-separated."""
    out = io.StringIO()
    for line, (user, item, kind, ts) in enumerate(
        zip(
            w.event_user[start:stop].tolist(),
            w.event_item[start:stop].tolist(),
            w.event_type[start:stop].tolist(),
            timestamps(w, start, stop),
            strict=True,
        ),
        start=start,
    ):
        out.write(f"{line}\tuser-{user + 1}\titem-{item + 1}\t{TYPES[kind]}\t\t{ts}\t\n")
    return out.getvalue()


def ingest_params(events: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """The named query ingest_events' arguments for event dicts (POST /events'
    shape, timestamps as unix seconds or absent), as app.db.events sends them."""
    return db_events.ingest_params(
        [
            db_events.NewEvent(
                e["user_id"],
                e["product_id"],
                e["event_type"],
                value=e.get("value"),
                timestamp=_when(e.get("timestamp")),
            )
            for e in events
        ]
    )


def _when(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if isinstance(value, int) else value


def train(url: str, progress: bool = True) -> tuple[float, tuple[str, ...]]:
    """The models `recsys train` would fit, without the validation split (the bench
    needs served models, not their metrics) and without the hybrid blend weights:
    fitting them takes minutes at 10 000 items and changes the weights the SQL
    reads, not what it costs; the hybrid case serves its documented defaults."""
    from app.training import runner

    started = time.perf_counter()
    options = runner.Options(validate=False, progress=progress)
    kinds = [k for k in runner.plan(url, ("all",)).kinds if k != runner.HYBRID]
    outcomes = runner.train(url, kinds, options)
    return time.perf_counter() - started, tuple(o.kind for o in outcomes)
