"""Write an evaluation to a directory: metrics.json, report.md and the charts."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from app.evaluation import ask, charts

ACCURACY = ("ndcg", "precision", "recall", "map", "hit_rate", "mrr")
BEYOND = ("coverage", "novelty", "diversity", "arp", "head_share", "mean_list_length")

SPLITS = {
    "temporal": "each user's latest {pct} of items (by the time of the user's first event "
    "on the item) held out: the future is predicted from the past",
    "random": "each user's items shuffled with seed {seed} and {pct} of them held out "
    "(per-user stratified, as Microsoft Recommenders' python_stratified_split)",
    "leave-last-out": "each user's latest item held out (users with one item only train)",
}


def write(result: dict[str, Any], out: Path, command: str = "") -> list[Path]:
    """metrics.json, the PNG charts and report.md in `out` (created); returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    metrics = out / "metrics.json"
    metrics.write_text(json.dumps(result, indent=2, default=_plain) + "\n")
    pictures = charts.draw_all(result, out)
    text = out / "report.md"
    text.write_text(markdown(result, command, [p.name for p in pictures]))
    return [text, metrics, *pictures]


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, (bool, int)):
        return str(value)
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:.{digits}f}"
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(fmt(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(result: dict[str, Any], command: str, pictures: list[str]) -> str:
    sections = [
        "# Offline evaluation",
        f"Command: `{command}`" if command else "",
        protocol(result),
        data(result["data"]),
        accuracy(result),
        beyond(result),
        rating(result["rating"]),
        variants(result),
        content_categories(result.get("content_categories")),
        history(result),
        timings(result),
        "## Charts\n\n" + "\n\n".join(f"![{p}]({p})" for p in pictures),
    ]
    return "\n\n".join(s for s in sections if s) + "\n"


def protocol(result: dict[str, Any]) -> str:
    p, tuning = result["protocol"], result.get("ease_tuning") or {}
    pct = f"{p['test_fraction']:.0%}"
    ease = (
        f"EASE with the full item x item matrix, lambda {tuning['lam']:g} and {tuning['weighting']}"
        " weighting chosen on a validation split of the training part (split again the"
        " same way; the test part is never looked at)"
        if tuning
        else "EASE skipped: the catalogue is too large for a dense item x item matrix"
    )
    return "\n".join(
        [
            "## Protocol",
            "",
            f"- Source: `{p['source']}`; unit: the (user, item) pair (all of a pair's"
            " events go to the same side).",
            f"- Split: {SPLITS[p['split']].format(pct=pct, seed=p['seed'])}. Seed {p['seed']}.",
            "- Training: the training events imported into a scratch database (dropped at the"
            " end) and `recsys train` (all models, default settings, random_state = seed).",
            f"- Lists: every test user's top {p['k']} from each strategy through"
            " `app.recommenders.recommend`, the code behind `GET /recommend`, with its own"
            " exclusion of items seen in training.",
            "- Relevance: binary; every held-out item of the user counts as relevant."
            " Users without held-out items are not scored.",
            f"- NDCG@{p['k']}: DCG of the hits over the DCG of min(k, relevant) hits first;"
            f" MAP@{p['k']}: AP over min(k, relevant); MRR: 1 / rank of the first hit within k.",
            "- Baselines, computed directly with numpy on the same split and seen items removed:"
            f" random (seed {p['seed']}), most popular (training users per item), {ease}.",
            "- Ratings: RMSE/MAE of the active explicit model (`recsys.predict`, the code behind"
            " `GET /predict`) on held-out pairs carrying a rating, then of each further model"
            " of `--rating-models`, trained and activated in turn.",
        ]
    )


def data(d: dict[str, Any]) -> str:
    types = ", ".join(f"{t} {n}" for t, n in d["event_types"].items())
    rows = [
        ["events", f"{d['events']} ({types})"],
        ["users / items / pairs", f"{d['users']} / {d['items']} / {d['pairs']}"],
        ["density", f"{d['density']:.4%}"],
        ["pairs with a rating", d["rated_pairs"]],
        ["time span", f"{d['first_event']} .. {d['last_event']}"],
        ["training events / pairs", f"{d['train_events']} / {d['train_pairs']}"],
        ["test pairs / users", f"{d['test_pairs']} / {d['test_users']}"],
        ["catalogue (scored for coverage)", d["catalogue"]],
        ["items with a content embedding", d["embedded_items"]],
        ["short head (most popular 20%)", f"{d['short_head_items']} items"],
        ["held-out pairs in the short head", f"{d['test_head_share']:.1%}"],
    ]
    return "## Data\n\n" + table(["", ""], rows)


def accuracy(result: dict[str, Any]) -> str:
    k = result["protocol"]["k"]
    ease = result["baselines"].get("ease", {}).get("ndcg")
    headers = ["list", f"NDCG@{k}", f"P@{k}", f"R@{k}", f"MAP@{k}", "hit rate", "MRR", "x EASE"]
    rows = [
        [name, *(v[m] for m in ACCURACY), v["ndcg"] / ease if ease else None]
        for name, v in _all(result)
    ]
    return f"## Top-{k} accuracy\n\n" + table(headers, rows)


def beyond(result: dict[str, Any]) -> str:
    headers = [
        "list",
        "coverage",
        "novelty (bits)",
        "diversity",
        "ARP",
        "short-head share",
        "length",
    ]
    rows = [[name, *(v[m] for m in BEYOND)] for name, v in _all(result)]
    note = (
        "Coverage: share of the catalogue in any list. Novelty: mean -log2 of the share of"
        " training users who had the item (add-one smoothed). Diversity: mean pairwise cosine"
        " distance of content embeddings within a list. ARP: mean training users of a"
        " recommended item. Short-head share: recommendations from the most popular 20% of items."
    )
    return "## Beyond accuracy\n\n" + table(headers, rows) + "\n\n" + note


def _all(result: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    served = list(result["strategies"].items())
    return served + [(f"{n} (baseline)", v) for n, v in result["baselines"].items()]


def rating(figures: dict[str, Any]) -> str:
    if not figures:
        return "## Ratings\n\nNo explicit model (no held-out pair carries a rating)."
    rows = [
        [
            m,
            v["rmse"],
            v["mae"],
            v["rmse_global_mean"],
            v["n"],
            v["fallbacks"],
            "recsys.predict" if v.get("served", True) else "surprise, directly (not served)",
        ]
        for m, v in figures.items()
    ]
    headers = ["model", "RMSE", "MAE", "RMSE of the training mean", "ratings", "fallbacks", "via"]
    return "## Ratings\n\n" + table(headers, rows)


def variant_table(result: dict[str, Any], rows: dict[str, Any], rebuilds: bool = False) -> str:
    """One behavior_based variant per row: accuracy, coverage, latency (and rebuild time)."""
    k = result["protocol"]["k"]
    headers = [ask.BEHAVIOR, f"NDCG@{k}", f"P@{k}", f"R@{k}", f"MAP@{k}", "coverage"]
    headers += ["p50 ms", "p99 ms", *(["full rebuild s"] if rebuilds else [])]
    body = [
        [
            name,
            *(v[m] for m in ("ndcg", "precision", "recall", "map", "coverage")),
            v["latency_ms"].get("p50"),
            v["latency_ms"].get("p99"),
            *([v.get("rebuild_s")] if rebuilds else []),
        ]
        for name, v in rows.items()
    ]
    return table(headers, body)


# Sections of behavior_based variants: metrics.json key -> (title, note, rebuild column).
VARIANTS = {
    "similarity": (
        "behavior_based by similarity measure",
        "Each co-occurrence measure (`recsys.settings.similarity`) normalises the pair"
        " counts by the items' popularity; every source item is scored live from"
        " `item_pairs` (no neighbour lists).",
        False,
    ),
    "neighbor_lists": (
        "behavior_based: live vs neighbour lists",
        "Live: every source item scored from `item_pairs`, as the main table above."
        " Lists of N: each item's N strongest neighbours, rebuilt in full"
        " (`recsys.refresh_neighbor_lists_since(everything => true)`), as `recsys serve`"
        " keeps them every `REC_NEIGHBOR_REFRESH`.",
        True,
    ),
}


def variants(result: dict[str, Any]) -> str:
    sections = [
        f"## {title}\n\n{variant_table(result, result[key], rebuilds)}\n\n{note}"
        for key, (title, note, rebuilds) in VARIANTS.items()
        if result.get(key)
    ]
    return "\n\n".join(sections)


def content_categories(figures: dict[str, Any] | None) -> str:
    if not figures:
        return ""
    if not figures["queries"]:
        return "## Content neighbours by category\n\nNo embedded item has categories."
    rows = [
        ["share sharing a category", figures["share_sharing_a_category"], figures["chance_share"]],
        ["mean Jaccard of the categories", figures["category_jaccard"], figures["chance_jaccard"]],
    ]
    latency = figures["latency_ms"]
    note = (
        f"{figures['queries']} random items with categories, each asked for its"
        f" {figures['mean_list_length']:g} nearest by content (content_based by product);"
        " chance: every other such item. p50 / p99 per list:"
        f" {fmt(latency.get('p50'))} / {fmt(latency.get('p99'))} ms."
    )
    body = table(["measure", "content neighbours", "chance"], rows)
    return "## Content neighbours by category\n\n" + body + "\n\n" + note


def history(result: dict[str, Any]) -> str:
    names = [*result["strategies"], *result["baselines"]]
    rows = [
        [b, row["users"], *(row.get(n) for n in names)] for b, row in result["by_history"].items()
    ]
    title = "## NDCG by training history length (items per user)"
    return title + "\n\n" + table(["history", "users", *names], rows)


def timings(result: dict[str, Any]) -> str:
    rows = [[phase, seconds] for phase, seconds in result["timings"].items()]
    lat = [
        [n, v["latency_ms"].get("p50"), v["latency_ms"].get("p95"), v["latency_ms"].get("p99")]
        for n, v in result["strategies"].items()
    ]
    return (
        "## Timings\n\nWall seconds per phase:\n\n"
        + table(["phase", "s"], rows)
        + "\n\nOne list, in turn on one connection (ms):\n\n"
        + table(["strategy", "p50", "p95", "p99"], lat)
    )
