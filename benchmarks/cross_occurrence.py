"""Cross-occurrence against plain co-occurrence for predicting purchases, on
the `recsys demo` shop (views, carts, purchases; app.demo.shop) in one run.

Split: each user who bought something is cut at the first event on the item
they bought last; everything before is training, the items they bought from
then on are what a list should predict. Training goes in through
recsys.ingest_events (the trigger builds item_pairs and cross_pairs), then the
neighbour lists are refreshed as the service's refresher would.

Two comparisons, on the same users:
- behaviour-based lists (recsys.behavior_based) with settings.cross_weight 0
  (co-occurrence only) and each of --weights;
- one item's list, the user's latest training view: "viewed, then bought"
  (recsys.then_bought, LLR) against similar items (recsys.similar_items), both
  without the user's own items.
NDCG, hit rate and recall at k on the held-out purchases; paired differences
with a Wilcoxon signed-rank test (scipy). Several seeds are several shops.

    python -m benchmarks.cross_occurrence [--users 500] [--items 200]
        [--events-per-user 10] [--seeds 42,43,44] [--weights 0.5,1,2] [--k 10]
        [--json PATH]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import psycopg

from app.db import queries
from app.demo import load as demo_load
from app.demo import shop
from app.evaluation import metrics
from benchmarks import harness
from benchmarks.negative_feedback import paired

DB = "bench_cross_occurrence"
MEASURES = {"ndcg": metrics.ndcg, "hit": metrics.hit, "recall": metrics.recall}


@dataclass(frozen=True)
class Split:
    train: pd.DataFrame
    bought: dict[str, set[object]]  # user -> items bought from the cut on
    last_view: dict[str, str]  # user -> latest item viewed in training


def split(events: pd.DataFrame) -> Split:
    """Each buyer cut at the first event on the item they bought last."""
    events = events.sort_values("timestamp", kind="stable")
    purchases = events[events["event_type"] == "purchase"]
    last_bought = purchases.groupby("user_id")["product_id"].last()
    first_touch = events.groupby(["user_id", "product_id"], as_index=False)["timestamp"].min()
    cuts = first_touch.merge(last_bought.reset_index(), on=["user_id", "product_id"])
    at = events["user_id"].map(cuts.set_index("user_id")["timestamp"])
    held = at.notna() & (events["timestamp"] >= at)
    train, test = events[~held], events[held]
    bought = test[test["event_type"] == "purchase"].groupby("user_id")["product_id"].agg(set)
    views = train[train["event_type"] == "view"].groupby("user_id")["product_id"].last()
    users = sorted(set(bought.index) & set(views.index))
    return Split(train, {u: bought[u] for u in users}, {u: views[u] for u in users})


def load(url: str, items: list[dict[str, Any]], train: pd.DataFrame) -> None:
    """The catalogue and the training events as `recsys demo` loads them, then
    fresh statistics and neighbour lists."""
    events: list[dict[str, Any]] = train.to_dict("records")  # type: ignore[assignment]
    demo_load.load(url, shop.Shop(items=items, events=events))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(queries.get("bench_analyze"))
        conn.execute(queries.get("refresh_neighbor_lists"), {"everything": True})


def behaviour_lists(url: str, s: Split, weight: float, k: int) -> dict[str, list[str]]:
    found = {}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(queries.get("bench_set_cross_weight"), {"weight": weight})
        for user in s.bought:
            rows = conn.execute(
                "select product_id from recsys.behavior_based(%s, %s)", (user, k), prepare=True
            )
            found[user] = [r[0] for r in rows]
    return found


def item_lists(url: str, s: Split, k: int) -> dict[str, dict[str, list[str]]]:
    """Per list ('then_bought', 'similar'): each user's list of their latest view."""
    seen = s.train.groupby("user_id")["product_id"].agg(list)
    found: dict[str, dict[str, list[str]]] = {"then_bought": {}, "similar": {}}
    with psycopg.connect(url, autocommit=True) as conn:
        for user, item in s.last_view.items():
            params = {"product_id": item, "k": k, "exclude": sorted(set(seen[user]))}
            rows = conn.execute(queries.get("bench_then_bought_lists"), params).fetchall()
            for name in found:
                found[name][user] = [r[1] for r in rows if r[0] == name]
    return found


def scored(s: Split, found: dict[str, list[str]], k: int) -> pd.DataFrame:
    return pd.DataFrame(
        {name: [fn(found[u], s.bought[u], k) for u in s.bought] for name, fn in MEASURES.items()},
        index=list(s.bought),
    )


def compare(
    s: Split, lists: dict[str, dict[str, list[str]]], baseline: str, k: int
) -> dict[str, Any]:
    base = scored(s, lists[baseline], k)
    out: dict[str, Any] = {baseline: {m: float(base[m].mean()) for m in MEASURES}}
    for name, found in lists.items():
        if name != baseline:
            mine = scored(s, found, k)
            out[name] = {m: paired(mine[m], base[m]) for m in MEASURES}
    return out


def run_seed(server_url: str, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    generated = shop.generate(args.users, args.items, args.events_per_user, seed)
    s = split(pd.DataFrame(generated.events))
    url = harness.fresh_database(server_url, DB)
    try:
        load(url, generated.items, s.train)
        behaviour = {
            f"cross_weight {w:g}": behaviour_lists(url, s, w, args.k) for w in args.weights
        }
        behaviour["co-occurrence only"] = behaviour_lists(url, s, 0.0, args.k)
        with psycopg.connect(url) as conn:
            pairs = conn.execute(queries.get("bench_cross_counts")).fetchone()
        return {
            "seed": seed,
            "users": len(s.bought),
            "training_events": len(s.train),
            "item_pairs_cross_pairs": list(pairs or ()),
            "behavior_based": compare(s, behaviour, "co-occurrence only", args.k),
            "item_lists": compare(s, item_lists(url, s, args.k), "similar", args.k),
        }
    finally:
        harness.drop_database(server_url, DB)


def report(results: Sequence[dict[str, Any]], k: int) -> None:
    for r in results:
        print(
            f"\nseed {r['seed']}: {r['users']} buyers, {r['training_events']} training events,"
            f" item_pairs / cross_pairs rows {r['item_pairs_cross_pairs']}"
        )
        for section in ("behavior_based", "item_lists"):
            rows = []
            for name, figures in r[section].items():
                if "ndcg" in figures and isinstance(figures["ndcg"], float):
                    rows.append([name, *(harness.fmt(figures[m]) for m in MEASURES), ""])
                else:
                    rows.append(
                        [
                            name,
                            *(
                                f"{harness.fmt(figures[m]['on'])} ({figures[m]['difference']:+.4f})"
                                for m in MEASURES
                            ),
                            harness.fmt(figures["ndcg"]["p_value"]),
                        ]
                    )
            headers = ["list", *(f"{m}@{k}" for m in MEASURES), "p (NDCG, Wilcoxon)"]
            harness.print_table(f"{section}, seed {r['seed']}", headers, rows)


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = harness.parser(__doc__.splitlines()[0] if __doc__ else "cross_occurrence")
    p.add_argument("--users", type=int, default=500)
    p.add_argument("--items", type=int, default=200)
    p.add_argument("--events-per-user", type=int, default=10)
    p.add_argument("--seeds", default="42,43,44")
    p.add_argument("--weights", default="0.5,1,2")
    p.add_argument("--k", type=int, default=10)
    args = p.parse_args(argv)
    args.seeds = [int(x) for x in args.seeds.split(",")]
    args.weights = [float(x) for x in args.weights.split(",")]
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    with harness.postgres() as server_url:
        settings = harness.banner(server_url)
        results = [run_seed(server_url, seed, args) for seed in args.seeds]
    report(results, args.k)
    payload = {
        "machine": harness.machine(),
        "postgres": settings,
        "args": {k: v for k, v in vars(args).items() if k != "json"},
        "results": results,
    }
    harness.write_json(args.json, payload)
    return payload


if __name__ == "__main__":
    main()
