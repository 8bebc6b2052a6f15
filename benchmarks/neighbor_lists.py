"""behavior_based from refreshed neighbour lists vs live from item_pairs.

On ml-100k (each user's latest 20% of ratings held out), every user's
behaviour-based top 10 is computed live (no lists), then from lists of several
sizes: NDCG@10 and server-side latency side by side, plus what a full and an
incremental refresh cost.

    python -m benchmarks.neighbor_lists
"""

from __future__ import annotations

import time
from typing import Any

import psycopg

from app.evaluation import metrics, split
from benchmarks import harness
from benchmarks.collaborative import load, ratings_file, sql_lists

QUERY = "select product_id from recsys.behavior_based(%(user_id)s, 10)"
SIZES = (25, 50, 100, 200)


def refresh(url: str, size: int | None) -> float:
    """Seconds to rebuild every list at `size` (None: drop the lists, serve live)."""
    with psycopg.connect(url, autocommit=True) as conn:
        if size is None:
            conn.execute("delete from recsys.neighbor_lists")
            return 0.0
        conn.execute("update recsys.settings set neighbor_list_size = %s", (size,))
        started = time.perf_counter()
        conn.execute("select recsys.refresh_neighbor_lists_since(everything => true)")
        return time.perf_counter() - started


def incremental(url: str, events: int) -> float:
    """Seconds to refresh after `events` new ratings by existing users."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            """
            select recsys.ingest_events(array_agg(u), array_agg(i), array_agg('view'::text))
              from (select u.external_id as u, i.external_id as i
                      from recsys.users u, recsys.items i
                     order by random() limit %s) r
            """,
            (events,),
        )
        started = time.perf_counter()
        conn.execute("select recsys.refresh_neighbor_lists_since()")
        return time.perf_counter() - started


def run(server: str, data: Any) -> dict[str, Any]:
    train, test = split.temporal(ratings_file(data), 0.2)
    relevant = metrics.relevant_sets(test)
    url = load(server, "bench_neighbor_lists", train)
    users = [str(u) for u in sorted(int(str(u)) for u in relevant)]
    rows: dict[str, Any] = {}
    for size in (None, *SIZES):
        seconds = refresh(url, size)
        lists, latency = sql_lists(url, users, QUERY)
        rows["live" if size is None else f"lists of {size}"] = {
            **metrics.ranking(lists, relevant, 10),
            **{f"{k}_ms": v for k, v in harness.summary(latency).items() if k != "n"},
            "full_refresh_s": seconds,
        }
    rows["incremental refresh of 100 events (s)"] = incremental(url, 100)
    harness.drop_database(server, "bench_neighbor_lists")
    return rows


def main() -> None:
    args = harness.parser(__doc__ or "").parse_args()
    with harness.postgres() as server:
        rows = run(server, args.data)
    headers = ["source", "NDCG@10", "P@10", "p50 ms", "p99 ms", "full refresh s"]
    table = [
        [name, r["ndcg_at_10"], r["precision_at_10"], r["p50_ms"], r["p99_ms"], r["full_refresh_s"]]
        for name, r in rows.items()
        if isinstance(r, dict)
    ]
    harness.print_table(
        "behavior_based: live vs neighbour lists, ml-100k temporal 80/20", headers, table
    )
    seconds = rows["incremental refresh of 100 events (s)"]
    print(f"incremental refresh after 100 new events: {seconds:.3f} s")
    harness.write_json(
        args.json, {"benchmark": "neighbor_lists", "machine": harness.machine(), "results": rows}
    )


if __name__ == "__main__":
    main()
