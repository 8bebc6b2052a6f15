"""Content embeddings and the hybrid recommenders on MovieLens 100K, through the
project's own path (files -> import -> tables -> `recsys train` -> SQL).

    python -m benchmarks.content_hybrid [--queries 100] [--json PATH]

Content: titles and genres only (the importer's other attributes are cleared);
for `--queries` random movies, the share of the 10 nearest items
(recsys.content_based by product) that share a genre with the query, next to the
chance that a random other movie does.

Top-N: each user's latest 20% of ratings held out, the earliest 80% imported and
trained on (`recsys train` all: svd, ease, content, hybrid); NDCG, precision and
recall at 10 of every single strategy and of the hybrid (adaptive, switching)
through recsys.recommend, next to EASE computed directly with numpy; the time to
serve each list.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg

from app.evaluation import metrics, split
from app.importing.formats import item_format
from app.importing.items import import_items
from app.training import runner
from benchmarks import harness
from benchmarks.collaborative import direct_ease, load, ratings_file

LISTS = {
    "popular": "select product_id from recsys.recommend(%(u)s, 10, 'popular')",
    "behavior_based": "select product_id from recsys.recommend(%(u)s, 10, 'behavior_based')",
    "collaborative": "select product_id from recsys.recommend(%(u)s, 10, 'collaborative')",
    "content_based": "select product_id from recsys.recommend(%(u)s, 10, 'content_based')",
    "hybrid adaptive": "select product_id from recsys.recommend(%(u)s, 10, 'hybrid')",
    "hybrid switching": (
        "select product_id from recsys.recommend(%(u)s, 10, 'hybrid', method => 'switching')"
    ),
}
NEAREST = "select product_id from recsys.content_based(null, 10, product => %(p)s)"


def with_items(url: str, data_dir: Path) -> None:
    """Titles and genres (categories) of every movie; no other attribute."""
    import_items(url, harness.ml100k_file(data_dir, "u.item"), item_format("movielens-100k"), False)
    with psycopg.connect(url) as conn:
        conn.execute("update recsys.items set attributes = '{}'")
        conn.commit()


def genres(url: str) -> dict[str, set[str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select external_id, categories from recsys.items where embedding is not null"
        ).fetchall()
    return {str(p): set(c) for p, c in rows}


def genre_share(url: str, queries: int, seed: int) -> dict[str, Any]:
    known = genres(url)
    ids = sorted(known)
    chosen = np.random.default_rng(seed).choice(ids, size=queries, replace=False)
    shares, chance, times, jaccard, jaccard_chance = [], [], [], [], []
    with psycopg.connect(url, autocommit=True) as conn:
        for product in chosen:
            started = time.perf_counter()
            near = [r[0] for r in conn.execute(NEAREST, {"p": str(product)}).fetchall()]
            times.append((time.perf_counter() - started) * 1000)
            mine = known[str(product)]
            shares.append(np.mean([bool(known.get(p, set()) & mine) for p in near]))
            jaccard.append(np.mean([overlap(known.get(p, set()), mine) for p in near]))
            others = [p for p in ids if p != product]
            chance.append(np.mean([bool(known[p] & mine) for p in others]))
            jaccard_chance.append(np.mean([overlap(known[p], mine) for p in others]))
    return {
        "queries": queries,
        "share_sharing_a_genre": float(np.mean(shares)),
        "chance": float(np.mean(chance)),
        "genre_jaccard": float(np.mean(jaccard)),
        "genre_jaccard_chance": float(np.mean(jaccard_chance)),
        "latency_ms": harness.summary(times),
    }


def overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def lists(url: str, users: list[str], query: str) -> tuple[dict[object, list[object]], list[float]]:
    out: dict[object, list[object]] = {}
    times = []
    with psycopg.connect(url, autocommit=True) as conn:
        for user in users:
            started = time.perf_counter()
            rows = conn.execute(query, {"u": user}).fetchall()
            times.append((time.perf_counter() - started) * 1000)
            out[int(user)] = [int(r[0]) for r in rows]
    return out, times


def top_n(server: str, frame: pd.DataFrame, data_dir: Path, queries: int) -> dict[str, Any]:
    train, test = split.temporal(frame, 0.2)
    relevant = metrics.relevant_sets(test)
    url = load(server, "bench_content_hybrid", train)
    with_items(url, data_dir)
    started = time.perf_counter()
    outcomes = runner.train(url, ["all"], runner.Options(progress=False))
    training_s = time.perf_counter() - started
    content = genre_share(url, queries, seed=0)
    users = [str(u) for u in sorted(int(str(u)) for u in relevant)]
    rows, latency = {}, {}
    for name, query in LISTS.items():
        found, times = lists(url, users, query)
        rows[name] = metrics.ranking(found, relevant, 10)
        latency[name] = harness.summary(times)
        print(f"  {name}: ndcg@10 {rows[name]['ndcg_at_10']:.4f}", flush=True)
    ease = runner.default_params("ease", runner.Options())
    rows["EASE direct (numpy, full B)"] = metrics.ranking(
        direct_ease(train, ease["lam"], ease["weighting"]), relevant, 10
    )
    harness.drop_database(server, "bench_content_hybrid")
    runs = {o.kind: {"metrics": o.metrics, "data": o.data, "s": o.duration_s} for o in outcomes}
    return {
        "content": content,
        "rows": rows,
        "latency_ms": latency,
        "training_s": training_s,
        "runs": runs,
    }


def report(result: dict[str, Any]) -> None:
    content = result["content"]
    harness.print_table(
        f"ml-100k content (titles + genres): {content['queries']} random movies, 10 nearest",
        ["measure", "value"],
        [
            ["share of the 10 nearest sharing a genre", content["share_sharing_a_genre"]],
            ["chance (a random other movie shares one)", content["chance"]],
            ["mean Jaccard of genre sets, 10 nearest", content["genre_jaccard"]],
            ["mean Jaccard of genre sets, chance", content["genre_jaccard_chance"]],
            ["p50 ms per query", content["latency_ms"]["p50"]],
        ],
    )
    rows = result["rows"]
    ease = rows["EASE direct (numpy, full B)"]["ndcg_at_10"]
    harness.print_ranking(
        "ml-100k top-10, latest 20% of each user held out (goal: hybrid adaptive beats all)",
        rows,
        ease,
    )
    harness.print_latencies(
        "serving one list, k=10, every test user in turn (ms)", "list", result["latency_ms"]
    )
    weights = result["runs"].get("hybrid", {}).get("metrics", {}).get("buckets", {})
    print(f"\nhybrid validation per bucket: {weights}")


def main(argv: list[str] | None = None) -> None:
    p = harness.parser(__doc__.splitlines()[0] if __doc__ else "content_hybrid")
    p.add_argument("--queries", type=int, default=100, help="movies for the genre measure")
    args = p.parse_args(argv)
    frame = ratings_file(args.data)
    with harness.postgres() as server:
        settings = harness.banner(server)
        result: dict[str, Any] = {
            "benchmark": "content_hybrid",
            "machine": harness.machine(),
            "postgres": settings,
            **top_n(server, frame, args.data, args.queries),
        }
    report(result)
    harness.write_json(args.json, result)


if __name__ == "__main__":
    main()
