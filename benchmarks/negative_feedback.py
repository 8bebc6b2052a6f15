"""Does demoting items near a rejected one help? Lists with the demotion on
(the dislike type's seeded weight, 0.5) and off (weight 0: the rejected items are still
excluded, their neighbours no longer lose weight), in one run, on MovieLens
100K and on Online Retail.

MovieLens 100K: each user's latest 20% of ratings held out (app.evaluation's
temporal split); training ratings >= 3 are `rating` events with their value,
ratings <= 2 `dislike` events. Held out: relevant = rated >= 4, bad = rated <= 2.

Online Retail: one `purchase` event per customer, stock code and invoice; a
cancelled line (invoice "C...", negative quantity) of an item the customer had
bought is a `dislike` (a return). One cutoff date for everyone: the start of
the day on which the 80th percentile of the purchase events falls; training
is before it. Held out: relevant = items the customer first bought after the cutoff,
bad = items they returned after it. A purchase is a conversion, so an item
bought before the cutoff is never recommended again: its later return cannot
appear in a list and is counted apart, not as bad.

For each strategy (behavior_based; collaborative after `recsys train --model
ease`), every test user's list through recsys.recommend(user, k, strategy):
precision, recall and NDCG at k on the relevant items, bad@k (the share of
lists with a held-out bad item, and bad items per list), the paired
differences with a Wilcoxon signed-rank test (scipy), and the number of listed
items the user rejected in training (0 by design).

    python -m benchmarks.negative_feedback [--datasets movielens,retail]
        [--strategies behavior_based,collaborative] [--k 10] [--also-weights 0.5]
        [--retail PATH] [--retail-cutoff YYYY-MM-DD] [--data DIR] [--json PATH]
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from scipy import stats

from app import recommenders
from app.db import events as db_events
from app.db import queries
from app.evaluation import metrics, split
from app.recommenders.base import Query
from benchmarks import harness

RETAIL = Path(
    os.environ.get("REC_ONLINE_RETAIL")
    or Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "online-retail"
    / "online_retail.csv.gz"
).expanduser()
DB = "bench_negative_feedback"
# Events per recsys.ingest_events call: one trigger call aggregates every pair
# increment in one hash (Online Retail: 13.9M increments into 3.1M pairs took
# 508 s in chunks of 20 000 events).
CHUNK = 1_000_000
HOLDOUT = 0.2
# The dislike type's weight: the seeded 0.5 (sql/01_base.sql), and none.
CONDITIONS = {"on": 0.5, "off": 0.0}
MEASURES = ("precision", "recall", "ndcg")
SCORED = (*MEASURES, "with_bad", "bad")  # per user, compared between the conditions
EXTRA_COLUMNS = ("lists with bad", "bad per list", "rejected listed")
# The report's rows per strategy: label, figure of each measure, rejected items listed.
ROWS = (
    ("on", "on", "on"),
    ("off", "off", "off"),
    ("on - off", "difference", None),
    ("p (Wilcoxon)", "p_value", None),
    ("users changed", "users_changed", None),
)
DATASETS = ("movielens", "retail")


@dataclass
class Split:
    """Training events (user_id, product_id, event_type, value, ts) and, per test
    user, what they went on to like (relevant) and reject (bad)."""

    name: str
    train: pd.DataFrame
    relevant: dict[str, set[str]]
    bad: dict[str, set[str]]
    users: list[str]
    notes: dict[str, Any] = field(default_factory=dict)

    def rejected(self) -> dict[str, set[str]]:
        """Each user's items rejected in training."""
        negative = self.train[self.train["event_type"] == "dislike"]
        return sets(negative)


def sets(frame: pd.DataFrame) -> dict[str, set[str]]:
    return {str(u): set(items) for u, items in frame.groupby("user_id")["product_id"]}


# ------------------------------------------------------------------ data


def movielens(data: Path) -> Split:
    path = harness.ml100k_file(data, "u.data")
    frame = pd.read_csv(path, sep="\t", names=["user_id", "item_id", "value", "ts"], dtype=str)
    frame["value"] = frame["value"].astype(float)
    frame["ts"] = pd.to_datetime(frame["ts"].astype(int), unit="s", utc=True)
    train, test = split.temporal(frame, HOLDOUT)
    liked = train["value"] >= 3
    events = pd.DataFrame(
        {
            "user_id": train["user_id"],
            "product_id": train["item_id"],
            "event_type": np.where(liked, "rating", "dislike"),
            "value": train["value"].where(liked),
            "ts": train["ts"],
        }
    )
    test = test.rename(columns={"item_id": "product_id"})
    relevant, bad = sets(test[test["value"] >= 4]), sets(test[test["value"] <= 2])
    return Split(
        "movielens",
        events,
        relevant,
        bad,
        sorted(test["user_id"].unique()),
        {
            "split": f"per user, the latest {HOLDOUT:.0%} of ratings by time held out",
            "training": "ratings >= 3: rating events with their value; <= 2: dislike events",
            "held_out": "relevant: rated >= 4; bad: rated <= 2",
        },
    )


def retail(path: Path, cutoff: str | None = None) -> Split:
    if not path.exists():
        raise SystemExit(f"{path} not found (Online Retail; pass --retail PATH)")
    raw = pd.read_csv(path, dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": str})
    raw = raw[raw["CustomerID"].notna()]
    raw = raw.assign(ts=pd.to_datetime(raw["InvoiceDate"], utc=True))
    cancelled = raw["InvoiceNo"].str.startswith("C") & (raw["Quantity"] < 0)
    keys = ["CustomerID", "StockCode", "InvoiceNo"]
    bought = raw[~cancelled & (raw["Quantity"] > 0)].groupby(keys, as_index=False)["ts"].min()
    first = bought.groupby(["CustomerID", "StockCode"])["ts"].min().rename("first_bought")
    returned = raw[cancelled].groupby(keys, as_index=False)["ts"].min()
    returned = returned.join(first, on=["CustomerID", "StockCode"])
    orphans = int((~(returned["first_bought"] <= returned["ts"])).sum())
    returned = returned[returned["first_bought"] <= returned["ts"]]
    at = pd.Timestamp(cutoff, tz="UTC") if cutoff else bought["ts"].quantile(0.8).normalize()
    events = pd.concat(
        [
            bought.assign(event_type="purchase"),
            returned.drop(columns="first_bought").assign(event_type="dislike"),
        ]
    ).rename(columns={"CustomerID": "user_id", "StockCode": "product_id"})
    events = events.assign(value=np.nan).sort_values(["ts", "InvoiceNo", "product_id"])
    events = events[["user_id", "product_id", "event_type", "value", "ts"]]
    train, test = events[events["ts"] < at], events[events["ts"] >= at]
    owned = set(
        zip(
            train.loc[train["event_type"] == "purchase", "user_id"],
            train.loc[train["event_type"] == "purchase", "product_id"],
            strict=True,
        )
    )
    new = ~pd.Series(
        [pair in owned for pair in zip(test["user_id"], test["product_id"], strict=True)],
        index=test.index,
        dtype=bool,
    )
    relevant = sets(test[(test["event_type"] == "purchase") & new])
    bad = sets(test[(test["event_type"] == "dislike") & new])
    trained = set(train.loc[train["event_type"] == "purchase", "user_id"])
    users = sorted(u for u in set(relevant) | set(bad) if u in trained)
    unlistable = test[(test["event_type"] == "dislike") & ~new]
    return Split(
        "retail",
        train,
        {u: s for u, s in relevant.items() if u in trained},
        {u: s for u, s in bad.items() if u in trained},
        users,
        {
            "split": f"one cutoff, {at.date()} 00:00 UTC: training before it, held out after",
            "training": "purchase per (customer, stock code, invoice); a cancelled line of an"
            " item the customer had bought: dislike",
            "held_out": "relevant: items first bought after the cutoff; bad: items returned"
            " after it and not bought before it",
            "cutoff": str(at.date()),
            "returns_without_earlier_purchase_dropped": orphans,
            "held_out_returns_of_items_bought_before_cutoff": int(
                unlistable[["user_id", "product_id"]].drop_duplicates().shape[0]
            ),
        },
    )


# ------------------------------------------------------------------ database


def load(url: str, events: pd.DataFrame) -> float:
    """Training events in time order through recsys.ingest_events, CHUNK at a time."""
    ordered = events.sort_values("ts", kind="stable")
    values = ordered["value"].astype(object).where(ordered["value"].notna(), None)
    rows = [
        db_events.NewEvent(u, p, t, value=v, timestamp=ts)
        for u, p, t, v, ts in zip(
            ordered["user_id"].astype(str),
            ordered["product_id"].astype(str),
            ordered["event_type"],
            values,
            ordered["ts"].dt.to_pydatetime(),
            strict=True,
        )
    ]
    with harness.Stopwatch() as t, psycopg.connect(url) as conn:
        for start in range(0, len(rows), CHUNK):
            conn.execute(
                queries.get("ingest_events"), db_events.ingest_params(rows[start : start + CHUNK])
            )
            conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(queries.get("bench_analyze"))
    return t.seconds


def set_dislike_weight(url: str, weight: float) -> None:
    """The dislike type's weight, then fresh neighbour lists (what the running
    service's refresher would rebuild), so both conditions rank from the same lists."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(queries.get("bench_set_event_weight"), {"name": "dislike", "weight": weight})
        conn.execute(queries.get("refresh_neighbor_lists"), {"everything": True})


def state(url: str) -> list[int]:
    """Counts that must not move between the conditions: pairs, their sum, rejections."""
    with psycopg.connect(url) as conn:
        row = conn.execute(queries.get("bench_feedback_state")).fetchone()
    assert row is not None
    return [int(x) for x in row]


def train_collaborative(url: str) -> float:
    """`recsys train --model ease`: collaborative's neighbour model."""
    from app.training import runner  # the training stack only when collaborative is asked

    with harness.Stopwatch() as t:
        runner.train(url, ["ease"], runner.Options(validate=False, progress=False))
    return t.seconds


def lists(url: str, strategy: str, users: Sequence[str], k: int) -> dict[str, list[str]]:
    """Each user's top k through the recommend query (recsys.recommend)."""
    found = {}
    query = queries.get("recommend")
    with psycopg.connect(url, autocommit=True) as conn:
        for user in users:
            params = recommenders.recommend_params(strategy, Query(user_id=user, k=k))
            found[user] = [r[0] for r in conn.execute(query, params, prepare=True)]
    return found


# ------------------------------------------------------------------ scoring


def per_user(s: Split, found: dict[str, list[str]], k: int) -> pd.DataFrame:
    """One row per test user: precision/recall/NDCG (NaN without relevant items),
    bad items in the list, and items listed that the user rejected in training."""
    rejected = s.rejected()
    rows = []
    for user in s.users:
        ranked = found.get(user, [])[:k]
        relevant: set[object] = set(s.relevant.get(user, ()))
        bad = sum(item in s.bad.get(user, set()) for item in ranked)
        rows.append(
            {
                "user_id": user,
                "precision": metrics.precision(ranked, relevant, k) if relevant else np.nan,
                "recall": metrics.recall(ranked, relevant, k) if relevant else np.nan,
                "ndcg": metrics.ndcg(ranked, relevant, k) if relevant else np.nan,
                "bad": bad,
                "with_bad": float(bad > 0),
                "leaks": sum(item in rejected.get(user, set()) for item in ranked),
                "length": len(ranked),
            }
        )
    return pd.DataFrame(rows).set_index("user_id")


def paired(on: pd.Series, off: pd.Series) -> dict[str, Any]:
    """Mean of each, their difference, and a Wilcoxon signed-rank test of the
    per-user differences (users whose lists did not change drop out as zeros)."""
    both = pd.concat([on, off], axis=1, keys=["on", "off"]).dropna()
    diff = both["on"] - both["off"]
    nonzero = int((diff != 0).sum())
    if nonzero:
        test = stats.wilcoxon(diff, zero_method="wilcox")
        statistic, p = float(test.statistic), float(test.pvalue)
    else:
        statistic, p = float("nan"), 1.0
    return {
        "on": float(both["on"].mean()),
        "off": float(both["off"].mean()),
        "difference": float(diff.mean()),
        "users": len(both),
        "users_changed": nonzero,
        "wilcoxon_statistic": statistic,
        "p_value": p,
    }


def compare(s: Split, found: dict[str, dict[str, list[str]]], k: int) -> dict[str, Any]:
    """On against off, and each further weight (--also-weights) against off."""
    frames = {name: per_user(s, lists_, k) for name, lists_ in found.items()}
    on, off = frames["on"], frames["off"]
    rejecting = set(s.rejected())
    changed = [u for u in s.users if found["on"].get(u) != found["off"].get(u)]
    return {
        **{m: paired(on[m], off[m]) for m in SCORED},
        "lists": len(s.users),
        "lists_changed": len(changed),
        "lists_changed_without_rejections": sum(u not in rejecting for u in changed),
        "short_lists": {name: int((f["length"] < k).sum()) for name, f in frames.items()},
        "rejected_items_listed": {name: int(f["leaks"].sum()) for name, f in frames.items()},
        "other_weights": {
            name: {m: paired(frame[m], off[m]) for m in SCORED}
            for name, frame in frames.items()
            if name not in CONDITIONS
        },
    }


def describe(s: Split) -> dict[str, Any]:
    counts = s.train["event_type"].value_counts()
    rejecting = set(s.rejected())
    return {
        **s.notes,
        "training_events": {str(t): int(n) for t, n in counts.items()},
        "training_users": int(s.train["user_id"].nunique()),
        "test_users": len(s.users),
        "test_users_with_relevant": sum(bool(s.relevant.get(u)) for u in s.users),
        "test_users_with_bad": sum(bool(s.bad.get(u)) for u in s.users),
        "test_users_with_training_rejections": sum(u in rejecting for u in s.users),
        "held_out_relevant": sum(len(s.relevant.get(u, ())) for u in s.users),
        "held_out_bad": sum(len(s.bad.get(u, ())) for u in s.users),
    }


# ------------------------------------------------------------------ run


def run(server_url: str, s: Split, args: argparse.Namespace) -> dict[str, Any]:
    print(f"{s.name}: {len(s.train):,} training events, {len(s.users):,} test users", flush=True)
    url = harness.fresh_database(server_url, DB)
    result: dict[str, Any] = {"data": describe(s), "load_seconds": load(url, s.train)}
    print(f"  loaded in {result['load_seconds']:.1f}s", flush=True)
    if "collaborative" in args.strategies:
        result["train_seconds"] = train_collaborative(url)
        print(f"  trained ease in {result['train_seconds']:.1f}s", flush=True)
    found: dict[str, dict[str, dict[str, list[str]]]] = {st: {} for st in args.strategies}
    states = {}
    weights = CONDITIONS | {f"weight {w:g}": w for w in args.also_weights}
    for name, weight in weights.items():
        set_dislike_weight(url, weight)
        states[name] = state(url)
        for strategy in args.strategies:
            with harness.Stopwatch() as t:
                found[strategy][name] = lists(url, strategy, s.users, args.k)
            print(
                f"  {strategy}, demotion {name}: {len(s.users):,} lists in {t.seconds:.1f}s",
                flush=True,
            )
    result["state"] = {
        "pairs, users summed, rejections": states,
        "same": len(set(map(tuple, states.values()))) == 1,
    }
    result["rejections_stored"] = states["off"][2]
    result["rejections_in_training"] = sum(len(v) for v in s.rejected().values())
    result["strategies"] = {st: compare(s, found[st], args.k) for st in args.strategies}
    harness.drop_database(server_url, DB)
    return result


def report(results: dict[str, Any], k: int) -> None:
    for dataset, r in results.items():
        d = r["data"]
        print(
            f"\n{dataset}: {d['split']}; {d['test_users']} test users"
            f" ({d['test_users_with_training_rejections']} with training rejections,"
            f" {d['test_users_with_bad']} with held-out bad items: {d['held_out_bad']})"
        )
        rows = []
        for strategy, c in r["strategies"].items():
            listed = c["rejected_items_listed"]
            for label, key, last in ROWS:
                rows.append([strategy, label, *(c[m][key] for m in SCORED), listed.get(last, "")])
            for name, other in c["other_weights"].items():
                for label, key in ((name, "on"), ("  - off", "difference"), ("  p", "p_value")):
                    last = listed[name] if key == "on" else ""
                    rows.append([strategy, label, *(other[m][key] for m in SCORED), last])
        harness.print_table(
            f"{dataset}, k={k}: demotion on (dislike weight 0.5) vs off (weight 0)",
            ["strategy", "", *(f"{m}@{k}" for m in MEASURES), *EXTRA_COLUMNS],
            rows,
        )


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = harness.parser(__doc__.splitlines()[0] if __doc__ else "negative_feedback")
    p.add_argument(
        "--retail", type=Path, default=RETAIL, help="online_retail.csv.gz (REC_ONLINE_RETAIL)"
    )
    p.add_argument(
        "--retail-cutoff", help="YYYY-MM-DD (default: where 80%% of purchases fall before)"
    )
    p.add_argument("--datasets", type=names(DATASETS), default=list(DATASETS))
    p.add_argument(
        "--strategies",
        type=names(("behavior_based", "collaborative")),
        default=["behavior_based", "collaborative"],
    )
    p.add_argument("--k", type=int, default=10)
    p.add_argument(
        "--also-weights",
        type=lambda v: [float(w) for w in v.split(",")],
        default=[],
        help="further dislike weights to compare with off, e.g. 0.25,0.5",
    )
    return p.parse_args(argv)


def names(known: Iterable[str]) -> Any:
    allowed = tuple(known)

    def parse_list(value: str) -> list[str]:
        chosen = [v.strip() for v in value.split(",") if v.strip()]
        unknown = [v for v in chosen if v not in allowed]
        if unknown or not chosen:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(allowed)}")
        return chosen

    return parse_list


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    readers = {
        "movielens": lambda: movielens(args.data),
        "retail": lambda: retail(args.retail, args.retail_cutoff),
    }
    results = {}
    with harness.postgres() as server_url:
        settings = harness.banner(server_url)
        for dataset in args.datasets:
            results[dataset] = run(server_url, readers[dataset](), args)
    report(results, args.k)
    payload = {
        "benchmark": "negative_feedback",
        "machine": harness.machine(),
        "postgres": settings,
        "args": {k: str(v) for k, v in vars(args).items()},
        "datasets": results,
    }
    harness.write_json(args.json, payload)
    return payload


if __name__ == "__main__":
    main()
