"""How cost grows with event count, catalogue size and history length.

Each size gets a fresh database loaded with `recsys bench`'s synthetic,
popularity-skewed shop (the same trigger-maintained path as `recsys import`),
then, server-side in SQL with one client:

- load: events/s of the bulk load, every count maintained;
- write: one event by an existing user (ingest + trigger), rolled back so
  every sample sees the same state;
- reads: behavior_based (from refreshed neighbour lists, and live), popular,
  similar_items, for random active users / items, each the named query the
  service runs;
- refresh: a full rebuild of the neighbour lists, and the incremental round
  after 100 new events (added after the reads from lists).

History length: users with exactly 10, 100 and 1 000 distinct items are added
to the 100 000-event shop; their single-event write and behavior_based read are
timed the same way.

    python -m benchmarks.scaling            # every axis
    python -m benchmarks.scaling --axis events
    python -m benchmarks.scaling --axis events --sizes 10000   # one small size
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import psycopg

from app import recommenders
from app.db import queries
from app.recommenders.base import Query
from benchmarks import harness, seed, workload

EVENTS = (10_000, 100_000, 1_000_000)
ITEMS = (1_000, 10_000, 100_000)
HISTORIES = (10, 100, 1_000)
SAMPLES = 200
NEW_EVENTS = 100  # before the incremental refresh

Conn = psycopg.Connection[tuple[Any, ...]]


def timed(conn: Conn, calls: list[Callable[[Conn], object]]) -> dict[str, float]:
    times = []
    for call in calls:
        started = time.perf_counter()
        call(conn)
        times.append((time.perf_counter() - started) * 1000)
    return harness.summary(times[len(times) // 10 :])  # the first tenth warms caches


def read(name: str, params: dict[str, Any]) -> Callable[[Conn], object]:
    query = queries.get(name)
    return lambda conn: conn.execute(query, params).fetchall()


def strategy(case: str, user: str) -> Callable[[Conn], object]:
    """One list of strategy `case`, as the service asks for it."""
    return read("recommend", recommenders.recommend_params(case, Query(user_id=user, k=10)))


def by_item(item: str) -> dict[str, Any]:
    return {"product_id": item, "k": 10, "exclude": [], "category": None}


def views(users: list[str], items: list[str]) -> dict[str, list[Any]]:
    events = [
        {"user_id": u, "product_id": i, "event_type": "view"}
        for u, i in zip(users, items, strict=True)
    ]
    return seed.ingest_params(events)


def write(user: str, item: str) -> Callable[[Conn], object]:
    def call(conn: Conn) -> None:
        conn.execute(queries.get("ingest_events"), views([user], [item]))
        conn.rollback()

    return call


def seconds(conn: Conn, name: str, params: dict[str, Any] | None = None) -> float:
    started = time.perf_counter()
    conn.execute(queries.get(name), params)
    return time.perf_counter() - started


def measure(url: str, users: list[str], items: list[str]) -> dict[str, Any]:
    rng = random.Random(7)
    who = [rng.choice(users) for _ in range(SAMPLES)]
    what = [rng.choice(items) for _ in range(SAMPLES)]
    with psycopg.connect(url) as conn:
        result: dict[str, Any] = {
            "write": timed(conn, [write(u, i) for u, i in zip(who, what, strict=True)])
        }
        conn.autocommit = True
        result["full_refresh_s"] = seconds(conn, "refresh_neighbor_lists", {"everything": True})
        result["behavior_based"] = timed(conn, [strategy("behavior_based", u) for u in who])
        result["similar_items"] = timed(conn, [read("similar_items", by_item(i)) for i in what])
        result["popular"] = timed(conn, [strategy("popular", u) for u in who])
        conn.execute(queries.get("ingest_events"), views(who[:NEW_EVENTS], what[-NEW_EVENTS:]))
        result["incremental_refresh_s"] = seconds(
            conn, "refresh_neighbor_lists", {"everything": False}
        )
        conn.execute(queries.get("drop_neighbor_lists"))
        live = [strategy("behavior_based", u) for u in who]
        result["behavior_based_live"] = timed(conn, live)
    return result


def shop(server: str, spec: workload.Spec) -> tuple[str, workload.Workload, dict[str, Any]]:
    url = harness.fresh_database(server, "bench_scaling")
    w = workload.generate(spec)
    loaded = seed.load(url, w, progress=False)
    return url, w, {"load_s": loaded.seconds, "load_events_per_s": loaded.events_per_s}


def one_size(server: str, spec: workload.Spec) -> dict[str, Any]:
    url, w, row = shop(server, spec)
    users = [w.user_id(int(i)) for i in w.active_users()]
    items = [w.item_id(int(i)) for i in set(w.event_item.tolist())]
    row.update(measure(url, users, items))
    harness.drop_database(server, "bench_scaling")
    return row


def add_heavy_user(conn: Conn, user: str, w: workload.Workload, n: int) -> None:
    items = random.Random(n).sample(range(w.spec.items), n)
    conn.execute(queries.get("ingest_events"), views([user] * n, [w.item_id(i) for i in items]))
    conn.commit()


def histories(server: str) -> dict[str, Any]:
    url, w, _ = shop(server, workload.Spec(users=10_000, items=10_000, events=100_000))
    rows: dict[str, Any] = {}
    with psycopg.connect(url) as conn:
        for n in HISTORIES:
            add_heavy_user(conn, f"heavy-{n}", w, n)
    for n in HISTORIES:
        fresh = [w.item_id(i) for i in range(w.spec.items - SAMPLES, w.spec.items)]
        rows[f"{n} items"] = measure(url, [f"heavy-{n}"], fresh)
    harness.drop_database(server, "bench_scaling")
    return rows


def axes(server: str, which: str, sizes: tuple[int, ...] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if which in ("all", "events"):
        out["events"] = {
            f"{n:,}": one_size(server, workload.Spec(users=n // 10, items=10_000, events=n))
            for n in sizes or EVENTS
        }
    if which in ("all", "items"):
        out["items"] = {
            f"{n:,}": one_size(server, workload.Spec(users=10_000, items=n, events=100_000))
            for n in sizes or ITEMS
        }
    if which in ("all", "history"):
        out["history"] = histories(server)
    return out


COLUMNS = ("write", "behavior_based", "behavior_based_live", "similar_items", "popular")


def report(results: dict[str, Any]) -> None:
    headers = ["size", "load ev/s", *(f"{c} p50/p99 ms" for c in COLUMNS)]
    headers += ["full refresh s", "refresh after 100 events s"]
    for axis, sizes in results.items():
        table = [
            [
                size,
                row.get("load_events_per_s", "-"),
                *(f"{row[c]['p50']:.2f} / {row[c]['p99']:.2f}" for c in COLUMNS),
                row["full_refresh_s"],
                row["incremental_refresh_s"],
            ]
            for size, row in sizes.items()
        ]
        harness.print_table(f"cost by {axis}", headers, table)


def main() -> None:
    parser = harness.parser(__doc__ or "")
    parser.add_argument("--axis", choices=("all", "events", "items", "history"), default="all")
    parser.add_argument(
        "--sizes",
        help="comma-separated sizes for the events or items axis"
        f" (default {', '.join(map(str, EVENTS))} events; {', '.join(map(str, ITEMS))} items)",
    )
    args = parser.parse_args()
    sizes = tuple(int(n) for n in args.sizes.split(",")) if args.sizes else None
    with harness.postgres() as server:
        results = axes(server, args.axis, sizes)
    report(results)
    harness.write_json(
        args.json, {"benchmark": "scaling", "machine": harness.machine(), "results": results}
    )


if __name__ == "__main__":
    main()
