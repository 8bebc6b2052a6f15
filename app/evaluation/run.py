"""One offline evaluation: split the events, train every model on the training
part in a scratch database, ask each served strategy for every test user,
score the lists next to baselines computed directly, and return the figures."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from app.config import MAX_K
from app.evaluation import ask, baselines, categories, ratings, scoring, scratch, split, variants
from app.evaluation import source as sources
from app.evaluation.progress import Progress
from app.importing.items import import_items
from app.training import runner


@dataclass(frozen=True)
class Protocol:
    split: str = "temporal"
    test_fraction: float = 0.2
    k: int = 10
    seed: int = 42
    strategies: tuple[str, ...] = tuple(ask.STRATEGIES)
    # Optional sections, each off when empty (zero).
    similarity: tuple[str, ...] = ()  # behavior_based under each co-occurrence measure
    neighbor_lists: tuple[int, ...] = ()  # behavior_based live vs lists of these sizes
    content_queries: int = 0  # items whose content neighbours are judged by category
    rating_models: tuple[str, ...] = ()  # explicit models scored on ratings (default: svd)

    def check(self) -> None:
        """Raise ValueError naming the first bad setting."""
        if self.split not in split.SPLITS:
            raise ValueError(f"--split must be one of {', '.join(split.SPLITS)}")
        if not 0 < self.test_fraction < 1:
            raise ValueError("--test-fraction must be between 0 and 1 (exclusive)")
        if not 1 <= self.k <= MAX_K:
            raise ValueError(f"--k must be between 1 and {MAX_K}")
        unknown = [s for s in self.strategies if s not in ask.STRATEGIES]
        if unknown or not self.strategies:
            choices = ", ".join(ask.STRATEGIES)
            raise ValueError(
                f"unknown strategy {', '.join(unknown) or '(none)'}; choose from {choices}"
            )
        self.check_sections()

    def check_sections(self) -> None:
        _known("--similarity", self.similarity, variants.MEASURES)
        _known("--rating-models", self.rating_models, ratings.MODELS)
        if any(size < 1 for size in self.neighbor_lists):
            raise ValueError("--neighbor-lists sizes must be at least 1")
        if self.content_queries < 0:
            raise ValueError("--content-queries must be at least 0")


def _known(option: str, given: tuple[str, ...], choices: tuple[str, ...]) -> None:
    unknown = [name for name in given if name not in choices]
    if unknown:
        known = ", ".join(choices)
        raise ValueError(f"{option}: unknown {', '.join(unknown)}; choose from {known}")


@dataclass
class Split:
    events: pd.DataFrame
    train: pd.DataFrame  # pairs
    test: pd.DataFrame  # pairs

    @property
    def users(self) -> list[str]:
        return sorted(str(u) for u in self.test["user_id"].unique())


def evaluate(
    server_url: str, source: sources.Source, protocol: Protocol, progress: bool = True
) -> dict[str, Any]:
    """Everything metrics.json holds. The scratch database is gone when this returns."""
    protocol.check()
    bar = Progress(progress)
    started = time.perf_counter()
    with scratch.database(server_url) as url:
        with bar.phase("split"):
            parts = split_source(url, source, protocol)
        with bar.phase("load training part"):
            load(url, source, parts)
        with bar.phase("train"):
            # The hybrid's weights are fitted on a validation split of the training
            # part made the way the test part was: tuning mimics the protocol.
            options = runner.Options(
                progress=False,
                random_state=protocol.seed,
                params={"hybrid": {"validation": protocol.split}},
                validation=protocol.split,
            )
            outcomes = runner.train(url, ["all"], options)
        ctx = scoring.Context.of(
            parts.train, parts.test, protocol.k, scratch.catalogue(url), scratch.embeddings(url)
        )
        served = {
            name: ask_strategy(url, name, parts, protocol, ctx, bar) for name in protocol.strategies
        }
        rating = rating_accuracy(url, parts, outcomes, protocol, bar)
        sections = ask_sections(url, parts, protocol, ctx, bar)
    references = reference_lists(parts, protocol, bar)
    reference = {name: scoring.score(lists, ctx) for name, lists in references["lists"].items()}
    ndcg = {
        **{n: v["per_user"] for n, v in served.items()},
        **{n: v[1] for n, v in reference.items()},
    }
    return {
        "protocol": protocol_of(protocol, source),
        "data": data_summary(source.events, parts, ctx),
        "strategies": {n: v["figures"] for n, v in served.items()},
        "baselines": {n: v[0] for n, v in reference.items()},
        "ease_tuning": references["tuning"],
        "rating": rating,
        "by_history": scoring.by_history(ndcg, ctx),
        "catalogue_deciles": scoring.catalogue_deciles(parts.train, ctx),
        "training": {
            o.kind: {"seconds": o.duration_s, "metrics": o.metrics, "params": o.data}
            for o in outcomes
        },
        **sections,
        "timings": {**bar.seconds, "total": round(time.perf_counter() - started, 3)},
    }


def split_source(url: str, source: sources.Source, protocol: Protocol) -> Split:
    if source.event_types:
        scratch.set_event_types(url, source.event_types)
    scratch.ensure_event_types(url, source.extra_types)
    if protocol.split != "random" and source.events["ts"].isna().any():
        raise sources.SourceError(
            f"--split {protocol.split} needs event times; the events have none (use --split random)"
        )
    pairs = sources.pairs(source.events, scratch.event_types(url))
    train, test = split.by_name(protocol.split, pairs, protocol.test_fraction, protocol.seed)
    if test.empty:
        raise sources.SourceError("the split left no test pairs (too few events per user)")
    return Split(sources.events_of(source.events, train), train, test)


def load(url: str, source: sources.Source, parts: Split) -> None:
    if source.items:
        scratch.load_items(url, source.items)
    if source.items_file:
        path, fmt = source.items_file
        import_items(url, path, fmt, progress=False)
    scratch.load_events(url, parts.events)


def ask_strategy(
    url: str,
    name: str,
    parts: Split,
    protocol: Protocol,
    ctx: scoring.Context,
    bar: Progress,
    label: str | None = None,
) -> dict[str, Any]:
    users = parts.users
    with bar.phase(f"ask {label or name}", total=len(users), unit="users") as tick:
        asked = ask.lists(url, name, users, protocol.k, tick)
    figures, per_user = scoring.score(asked.lists, ctx)
    figures["latency_ms"] = latency(asked.latency_ms)
    return {"figures": figures, "per_user": per_user}


def latency(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {"p50": float(p50), "p95": float(p95), "p99": float(p99), "mean": float(np.mean(values))}


def rating_accuracy(
    url: str, parts: Split, outcomes: list[runner.Outcome], protocol: Protocol, bar: Progress
) -> dict[str, Any]:
    """RMSE/MAE of the explicit model `recsys train` fitted, then of --rating-models."""
    explicit = [o.kind for o in outcomes if o.role == "explicit"]
    if not explicit:
        return {}
    models = [explicit[-1], *(m for m in protocol.rating_models if m != explicit[-1])]
    options = runner.Options(progress=False, validate=False, random_state=protocol.seed)
    return ratings.accuracy(url, parts.train, parts.test, models, options, bar)


def ask_sections(
    url: str, parts: Split, protocol: Protocol, ctx: scoring.Context, bar: Progress
) -> dict[str, Any]:
    """The optional sections: behavior_based variants, content neighbours by category."""

    def behavior(label: str) -> dict[str, Any]:
        asked = ask_strategy(url, ask.BEHAVIOR, parts, protocol, ctx, bar, label)
        return dict(asked["figures"])

    out: dict[str, Any] = {}
    if protocol.similarity:
        out["similarity"] = variants.by_measure(url, protocol.similarity, behavior)
    if protocol.neighbor_lists:
        out["neighbor_lists"] = variants.by_list_size(url, protocol.neighbor_lists, behavior)
    if protocol.content_queries:
        out["content_categories"] = content_categories(url, protocol, bar)
    return out


def content_categories(url: str, protocol: Protocol, bar: Progress) -> dict[str, Any]:
    known = categories.categories_of(url)
    products = categories.sample(known, protocol.content_queries, protocol.seed)
    if not products:
        return {"queries": 0}
    with bar.phase("ask content_based by product", total=len(products), unit="items") as tick:
        asked = ask.item_lists(url, ask.CONTENT, products, protocol.k, tick)
    return {**categories.agreement(asked.lists, known), "latency_ms": latency(asked.latency_ms)}


def reference_lists(parts: Split, protocol: Protocol, bar: Progress) -> dict[str, Any]:
    users, k, seed = parts.users, protocol.k, protocol.seed
    with bar.phase("baselines"):
        lists = {
            "random": baselines.random_lists(parts.train, users, k, seed),
            "most_popular": baselines.popular_lists(parts.train, users, k),
            "item_knn": baselines.knn_lists(parts.train, users, k),
        }
        tuning: dict[str, Any] = {}
        if baselines.fits_ease(parts.train):
            tuning = baselines.tune_ease(
                parts.train, protocol.split, protocol.test_fraction, seed, k
            )
            lists["ease"] = baselines.ease_lists(
                parts.train, users, k, tuning["lam"], tuning["weighting"]
            )
            # The plain reference of issue 15: binary, lambda 200, nothing tuned.
            lists["ease_200"] = baselines.ease_lists(parts.train, users, k, 200.0, "binary")
    return {"lists": lists, "tuning": tuning}


def protocol_of(protocol: Protocol, source: sources.Source) -> dict[str, Any]:
    return {**asdict(protocol), "strategies": list(protocol.strategies), "source": source.label}


def data_summary(events: pd.DataFrame, parts: Split, ctx: scoring.Context) -> dict[str, Any]:
    pairs = pd.concat([parts.train, parts.test])
    users, items = pairs["user_id"].nunique(), pairs["item_id"].nunique()
    times = events["ts"].dropna()
    return {
        "events": len(events),
        "event_types": {str(t): int(n) for t, n in events["event_type"].value_counts().items()},
        "users": int(users),
        "items": int(items),
        "pairs": len(pairs),
        "density": len(pairs) / (users * items) if users and items else 0.0,
        "rated_pairs": int(pairs["rating"].notna().sum()),
        "first_event": str(times.min()) if len(times) else None,
        "last_event": str(times.max()) if len(times) else None,
        "train_events": len(parts.events),
        "train_pairs": len(parts.train),
        "test_pairs": len(parts.test),
        "test_users": len(parts.users),
        "catalogue": len(ctx.catalogue),
        "embedded_items": len(ctx.vectors),
        "short_head_items": len(ctx.short_head),
        "test_head_share": float(parts.test["item_id"].isin(ctx.short_head).mean()),
    }
