"""Which co-occurrence similarity ranks best: cosine, Jaccard or LLR.

behavior_based and similar_items normalise pair counts by item popularity with
one of three measures (recsys.settings.similarity). On ml-100k, each user's
latest 20% of ratings held out, every user's behaviour-based top 10 is scored
with each measure, next to popular.

    python -m benchmarks.similarity
"""

from __future__ import annotations

from typing import Any

from app.evaluation import metrics, split
from benchmarks import harness
from benchmarks.collaborative import load, ratings_file, sql_lists

MEASURES = ("cosine", "jaccard", "llr")
QUERY = "select product_id from recsys.behavior_based(%(user_id)s, 10, measure => '{measure}')"


def run(server: str, data: Any) -> dict[str, Any]:
    train, test = split.temporal(ratings_file(data), 0.2)
    relevant = metrics.relevant_sets(test)
    url = load(server, "bench_similarity", train)
    users = [str(u) for u in sorted(int(str(u)) for u in relevant)]
    rows: dict[str, Any] = {}
    for measure in MEASURES:
        # The measure is one of three fixed names, never input.
        lists, latency = sql_lists(url, users, QUERY.format(measure=measure))
        rows[measure] = {
            **metrics.ranking(lists, relevant, 10),
            "p50_ms": harness.percentile(latency, 50),
        }
    popular, _ = sql_lists(
        url, users, "select product_id from recsys.popular(10, for_user => %(user_id)s)"
    )
    rows["popular"] = metrics.ranking(popular, relevant, 10)
    harness.drop_database(server, "bench_similarity")
    return rows


def main() -> None:
    args = harness.parser(__doc__ or "").parse_args()
    with harness.postgres() as server:
        rows = run(server, args.data)
    headers = ["list", "NDCG@10", "P@10", "R@10", "p50 ms"]
    table = [
        [name, r["ndcg_at_10"], r["precision_at_10"], r["recall_at_10"], r.get("p50_ms", "-")]
        for name, r in rows.items()
    ]
    harness.print_table(
        "behavior_based by similarity measure, ml-100k temporal 80/20", headers, table
    )
    harness.write_json(
        args.json, {"benchmark": "similarity", "machine": harness.machine(), "results": rows}
    )


if __name__ == "__main__":
    main()
