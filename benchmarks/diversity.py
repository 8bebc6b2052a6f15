"""The diversity / accuracy trade-off of recsys.ranked's MMR re-ranking, on
MovieLens 100K and Online Retail: NDCG@10 and intra-list diversity for
diversity 0, 0.25, 0.5 and 0.75 (no category cap unless --caps asks for one).

MovieLens 100K: each user's latest 20% of ratings held out (app.evaluation's
temporal split); every training rating is a `rating` event with its value, as
`recsys import --preset movielens-100k` loads them; the items come from u.item
(genres as categories). Held out: relevant = rated >= 4.

Online Retail: as benchmarks.negative_feedback splits it: one `purchase` per
customer, stock code and invoice, a cancelled line of an item bought before a
`dislike`; one cutoff for everyone (the start of the day on which the 80th
percentile of purchases falls), training before it; relevant = items first
bought after it. Items: each stock code with its most frequent description as
the title and its median unit price as attributes.price (no categories).

On each, after the load: the neighbour lists refreshed, `recsys train --model
ease` (collaborative) and `--model content` (the embeddings MMR and ILD use);
the hybrid serves its documented default weights. Then for each strategy
(behavior_based, collaborative, hybrid adaptive by default) and setting, every
sampled test user's list through the `ranked` named query (recsys.ranked, k =
10, seen items excluded). Per list: NDCG@10 on the relevant items
(app.evaluation.metrics), ILD = mean pairwise 1 - cos of the content embeddings
of the list's items (app.evaluation.beyond), and the distinct categories in it
(MovieLens genres). Means over users; the NDCG change against diversity 0 with a
Wilcoxon signed-rank p value (scipy). A markdown table is printed and a PNG of
NDCG against ILD written (--chart, default docs/rules/diversity.png).

    python -m benchmarks.diversity [--datasets movielens,retail]
        [--strategies behavior_based,collaborative,hybrid] [--levels 0,0.25,0.5,0.75]
        [--caps none] [--users N] [--k 10] [--seed 42] [--retail PATH]
        [--retail-cutoff YYYY-MM-DD] [--chart PATH] [--data DIR] [--json PATH]
"""

from __future__ import annotations

import argparse
import math
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from matplotlib.figure import Figure
from psycopg.types.json import Jsonb
from scipy import stats

from app import recommenders
from app.db import queries
from app.evaluation import beyond, metrics, split
from app.importing.formats import item_format
from app.importing.items import import_items
from app.recommenders.base import Query
from benchmarks import harness, negative_feedback

DB = "bench_diversity"
HOLDOUT = 0.2
DATASETS = ("movielens", "retail")
STRATEGIES = ("behavior_based", "collaborative", "hybrid", "hybrid_switching", "content_based")
DEFAULT_STRATEGIES = ("behavior_based", "collaborative", "hybrid")
LEVELS = (0.0, 0.25, 0.5, 0.75)
CHART = Path(__file__).resolve().parents[1] / "docs" / "rules" / "diversity.png"


# ------------------------------------------------------------------ data


def movielens(data: Path) -> tuple[negative_feedback.Split, Path]:
    path = harness.ml100k_file(data, "u.data")
    frame = pd.read_csv(path, sep="\t", names=["user_id", "item_id", "value", "ts"], dtype=str)
    frame["value"] = frame["value"].astype(float)
    frame["ts"] = pd.to_datetime(frame["ts"].astype(int), unit="s", utc=True)
    train, test = split.temporal(frame, HOLDOUT)
    events = pd.DataFrame(
        {
            "user_id": train["user_id"],
            "product_id": train["item_id"],
            "event_type": "rating",
            "value": train["value"],
            "ts": train["ts"],
        }
    )
    test = test.rename(columns={"item_id": "product_id"})
    relevant = negative_feedback.sets(test[test["value"] >= 4])
    s = negative_feedback.Split(
        "movielens",
        events,
        relevant,
        {},
        sorted(relevant),
        {
            "split": f"per user, the latest {HOLDOUT:.0%} of ratings by time held out",
            "training": "every rating a rating event with its value",
            "held_out": "relevant: rated >= 4",
        },
    )
    return s, harness.ml100k_file(data, "u.item")


def retail_items(path: Path) -> list[dict[str, Any]]:
    """Each stock code: its most frequent description, its median unit price."""
    raw = pd.read_csv(path, dtype={"StockCode": str, "Description": str})
    raw = raw[raw["StockCode"].notna()]
    titles = (
        raw.dropna(subset=["Description"])
        .groupby(["StockCode", "Description"])
        .size()
        .rename("n")
        .reset_index()
        .sort_values(["StockCode", "n", "Description"], ascending=[True, False, True])
        .drop_duplicates("StockCode")
        .set_index("StockCode")["Description"]
    )
    prices = raw[raw["UnitPrice"] > 0].groupby("StockCode")["UnitPrice"].median()
    items = []
    for code in sorted(set(raw["StockCode"])):
        title = titles.get(code)
        price = prices.get(code)
        items.append(
            {
                "product_id": code,
                "title": str(title).strip() if isinstance(title, str) else None,
                "attributes": {} if price is None else {"price": round(float(price), 2)},
            }
        )
    return items


# ------------------------------------------------------------------ database


def prepare(
    server_url: str, s: negative_feedback.Split, items: Path | list[dict[str, Any]]
) -> tuple[str, dict[str, Any]]:
    """A fresh database with the items, the training events, the neighbour lists,
    ease and content trained."""
    url = harness.fresh_database(server_url, DB)
    if isinstance(items, Path):
        import_items(url, items, item_format("movielens-100k"), progress=False)
    else:
        with psycopg.connect(url) as conn:
            conn.execute(queries.get("upsert_items"), {"items": Jsonb(items)})
    timings = {"load_seconds": negative_feedback.load(url, s.train)}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(queries.get("refresh_neighbor_lists"), {"everything": True})
    from app.training import runner  # the training stack only when it runs

    with harness.Stopwatch() as t:
        runner.train(url, ["ease", "content"], runner.Options(validate=False, progress=False))
    timings["train_seconds"] = t.seconds
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(queries.get("bench_analyze"))
    return url, timings


def catalogue(url: str) -> tuple[dict[str, np.ndarray], dict[str, list[str]]]:
    """Each embedded item's vector, each item's categories."""
    with psycopg.connect(url) as conn:
        vectors = {
            str(p): np.asarray(e, dtype=np.float64)
            for p, e in conn.execute(queries.get("evaluation_embeddings"))
        }
        categories = {
            str(row[0]): list(row[3] or []) for row in conn.execute(queries.get("evaluation_items"))
        }
    return vectors, categories


def lists(
    url: str, case: str, users: Sequence[str], k: int, diversity: float, cap: int | None
) -> dict[str, list[str]]:
    """Each user's top k through the `ranked` named query (recsys.ranked)."""
    strategy, method = recommenders.VARIANTS[case]
    query = queries.get("ranked")
    found = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for user in users:
            q = Query(user_id=user, k=k, method=method, diversity=diversity, max_per_category=cap)
            params = recommenders.ranked_params(strategy, q)
            found[user] = [r[0] for r in conn.execute(query, params, prepare=True)]
    return found


# ------------------------------------------------------------------ scoring


def ild(ranked: Sequence[str], vectors: dict[str, np.ndarray]) -> float:
    """One list's mean pairwise 1 - cos (NaN with fewer than two embedded items)."""
    value = beyond.intra_list_diversity({0: ranked}, vectors)
    return math.nan if value is None else value


def per_user(
    found: dict[str, list[str]],
    relevant: dict[str, set[str]],
    vectors: dict[str, np.ndarray],
    categories: dict[str, list[str]],
    k: int,
) -> pd.DataFrame:
    rows = []
    for user, ranked in found.items():
        ranked = ranked[:k]
        rows.append(
            {
                "user_id": user,
                "ndcg": metrics.ndcg(ranked, set(relevant.get(user, ())), k),
                "ild": ild(ranked, vectors),
                "categories": len({c for item in ranked for c in categories.get(item, [])}),
                "embedded": float(np.mean([item in vectors for item in ranked]))
                if ranked
                else math.nan,
                "length": len(ranked),
            }
        )
    return pd.DataFrame(rows).set_index("user_id")


def summarise(frame: pd.DataFrame, base: pd.DataFrame, has_categories: bool) -> dict[str, Any]:
    diff = frame["ndcg"] - base["ndcg"]
    changed = int((diff != 0).sum())
    p = float(stats.wilcoxon(diff, zero_method="wilcox").pvalue) if changed else 1.0
    ndcg, ndcg0 = float(frame["ndcg"].mean()), float(base["ndcg"].mean())
    return {
        "users": len(frame),
        "ndcg": ndcg,
        "ndcg_change": ndcg - ndcg0,
        "ndcg_change_relative": (ndcg - ndcg0) / ndcg0 if ndcg0 else math.nan,
        "p_value": p,
        "users_changed": changed,
        "ild": float(frame["ild"].mean()),
        "ild_change": float(frame["ild"].mean() - base["ild"].mean()),
        "categories_per_list": float(frame["categories"].mean()) if has_categories else None,
        "embedded_share": float(frame["embedded"].mean()),
        "short_lists": int((frame["length"] < frame["length"].max()).sum()),
        "mean_length": float(frame["length"].mean()),
    }


# ------------------------------------------------------------------ run


def label(diversity: float, cap: int | None) -> str:
    return f"d={diversity:g}" + ("" if cap is None else f", cap {cap}")


def run(
    server_url: str,
    s: negative_feedback.Split,
    items: Path | list[dict[str, Any]],
    args: argparse.Namespace,
) -> dict[str, Any]:
    users = [u for u in s.users if s.relevant.get(u)]
    if args.users and args.users < len(users):
        users = sorted(random.Random(args.seed).sample(users, args.users))
    print(
        f"{s.name}: {len(s.train):,} training events, {len(users):,} of {len(s.users):,}"
        " test users",
        flush=True,
    )
    url, timings = prepare(server_url, s, items)
    print(
        f"  loaded in {timings['load_seconds']:.1f}s, trained in {timings['train_seconds']:.1f}s",
        flush=True,
    )
    vectors, categories = catalogue(url)
    has_categories = any(categories.values())
    result: dict[str, Any] = {
        "data": {
            **s.notes,
            "training_events": len(s.train),
            "test_users": len(s.users),
            "users_scored": len(users),
            "items": len(categories),
            "embedded_items": len(vectors),
            "categories": len({c for cs in categories.values() for c in cs}),
        },
        **timings,
        "strategies": {},
    }
    for case in args.strategies:
        frames: dict[str, pd.DataFrame] = {}
        seconds: dict[str, float] = {}
        for cap in args.caps:
            for level in args.levels:
                name = label(level, cap)
                with harness.Stopwatch() as t:
                    found = lists(url, case, users, args.k, level, cap)
                seconds[name] = t.seconds
                frames[name] = per_user(found, s.relevant, vectors, categories, args.k)
                print(f"  {case} {name}: {len(users)} lists in {t.seconds:.1f}s", flush=True)
        # The changes are against no diversity and no cap (else the first setting).
        base = frames.get(label(0.0, None), next(iter(frames.values())))
        result["strategies"][case] = {
            name: {
                "diversity": level,
                "max_per_category": cap,
                "seconds": seconds[name],
                **summarise(frames[name], base, has_categories),
            }
            for cap in args.caps
            for level in args.levels
            for name in [label(level, cap)]
        }
    harness.drop_database(server_url, DB)
    return result


def table(results: dict[str, Any], k: int) -> str:
    """The markdown table of every data set, strategy and setting."""
    lines = [
        f"| data set | strategy | setting | NDCG@{k} | vs d=0 | p (Wilcoxon) | ILD |"
        " categories / list | ms / list |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for dataset, r in results.items():
        for case, settings in r["strategies"].items():
            for name, f in settings.items():
                cats = f["categories_per_list"]
                lines.append(
                    f"| {dataset} | {case} | {name} | {f['ndcg']:.4f} |"
                    f" {100 * f['ndcg_change_relative']:+.1f}% |"
                    f" {'-' if f['ndcg_change'] == 0 else harness.fmt(f['p_value'], 2)} |"
                    f" {f['ild']:.3f} | {'-' if cats is None else f'{cats:.2f}'} |"
                    f" {1000 * f['seconds'] / max(f['users'], 1):.0f} |"
                )
    return "\n".join(lines)


def chart(results: dict[str, Any], path: Path, k: int) -> Path:
    """NDCG@k against ILD, one panel per data set, one line per strategy, each
    point labelled with its diversity."""
    fig = Figure(figsize=(4.5 * len(results) + 1, 4.5))
    for n, (dataset, r) in enumerate(results.items()):
        ax = fig.add_subplot(1, len(results), n + 1)
        for c, (case, settings) in enumerate(r["strategies"].items()):
            colour = f"C{c}"
            by_cap: dict[Any, list[dict[str, Any]]] = {}
            for f in settings.values():
                by_cap.setdefault(f["max_per_category"], []).append(f)
            for cap, points in by_cap.items():
                x = [p["ild"] for p in points]
                y = [p["ndcg"] for p in points]
                name = case if cap is None else f"{case}, cap {cap}"
                dashed = "-" if cap is None else "--"
                ax.plot(x, y, marker="o", ls=dashed, color=colour, label=name)
                for p in points:
                    ax.annotate(
                        f"{p['diversity']:g}",
                        (p["ild"], p["ndcg"]),
                        textcoords="offset points",
                        xytext=(4, 4),
                        fontsize=7,
                    )
        ax.set_xlabel("intra-list diversity (mean 1 - cos, content embeddings)")
        ax.set_ylabel(f"NDCG@{k}")
        ax.set_title(f"{dataset} ({r['data']['users_scored']} users)", fontsize=10)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.suptitle("recsys.ranked diversity (MMR): accuracy against diversity, labels = d")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = harness.parser(__doc__.splitlines()[0] if __doc__ else "diversity")
    p.add_argument(
        "--retail",
        type=Path,
        default=negative_feedback.RETAIL,
        help="online_retail.csv.gz (REC_ONLINE_RETAIL)",
    )
    p.add_argument("--retail-cutoff", help="YYYY-MM-DD (default: where 80%% of purchases fall)")
    p.add_argument("--datasets", type=negative_feedback.names(DATASETS), default=list(DATASETS))
    p.add_argument(
        "--strategies",
        type=negative_feedback.names(STRATEGIES),
        default=list(DEFAULT_STRATEGIES),
    )
    p.add_argument("--levels", type=levels, default=list(LEVELS), help="diversity values, 0..1")
    p.add_argument("--caps", type=caps, default=[None], help="max_per_category values or none")
    p.add_argument("--users", type=int, default=None, help="test users sampled per data set")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--chart", type=Path, default=CHART, help="the PNG written")
    return p.parse_args(argv)


def levels(value: str) -> list[float]:
    found = [float(v) for v in value.split(",") if v.strip()]
    if not found or any(not 0 <= v <= 1 for v in found):
        raise argparse.ArgumentTypeError("diversity values between 0 and 1")
    return found


def caps(value: str) -> list[int | None]:
    found: list[int | None] = []
    for v in (v.strip() for v in value.split(",") if v.strip()):
        if v == "none":
            found.append(None)
        elif v.isdigit() and int(v) >= 1:
            found.append(int(v))
        else:
            raise argparse.ArgumentTypeError("max_per_category values >= 1, or none")
    return found or [None]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    results = {}
    with harness.postgres() as server_url:
        settings = harness.banner(server_url)
        for dataset in args.datasets:
            if dataset == "movielens":
                s, items = movielens(args.data)
                results[dataset] = run(server_url, s, items, args)
            else:
                s = negative_feedback.retail(args.retail, args.retail_cutoff)
                results[dataset] = run(server_url, s, retail_items(args.retail), args)
    markdown = table(results, args.k)
    print(f"\n{markdown}")
    written = chart(results, args.chart, args.k)
    print(f"\nwrote {written}")
    payload = {
        "benchmark": "diversity",
        "machine": harness.machine(),
        "postgres": settings,
        "args": {k: str(v) for k, v in vars(args).items()},
        "table": markdown,
        "chart": str(written),
        "datasets": results,
    }
    harness.write_json(args.json, payload)
    return payload


if __name__ == "__main__":
    main()
