"""The latency cost of business rules and of diversity, per case, with MovieLens
100K loaded: recsys.ranked with rules, MMR diversity or a category cap against
the same case without them, timed interleaved in one run.

MovieLens 100K's items (genres as categories, plus a numeric `year` attribute
taken from the release date) and all its ratings are loaded, the neighbour lists
refreshed, and `recsys train --model ease` (collaborative) and `--model content`
(the embeddings content_based, the hybrid and diversity read) are run. The
hybrid blend serves its documented default weights. Then, from one autocommit
connection, the `ranked` named query (what GET /recommend runs, without the
ledger row), prepared, rows fetched, k = 10, for every sampled user: each case
(popular, behavior_based, collaborative, content_based, hybrid adaptive, hybrid
switching) in every variant, the variants in an order rotating per user and
case, so drift in the neighbours' load falls on all alike:

* plain: no rules (recsys.ranked takes its fast path straight to recsys.rotated);
* filter: genres in (Drama, Comedy, Action, Thriller) and attributes.year >= 1980;
* boost+bury+pin: Comedy x2, films before 1970 x0.5, one item pinned at 3;
* diversity 0.5: MMR over the content embeddings;
* max_per_category 2;
* all: every rule above, diversity 0.5 and max_per_category 2.

Reported per case and variant: µs per call (mean, p50, p99), and mean and p50
as ratios to plain; lists shorter than k are counted. With --profile N, a
separate pass afterwards runs N calls of each case and variant in one
transaction with track_functions = 'pl' and reports where the time goes
(pg_stat_xact_user_functions: self time per call of each recsys function).
--plan-cache-mode force_custom_plan plans every statement inside the functions
for its own parameters: the variants' larger candidate pools otherwise make
PostgreSQL's plan cache settle on generic plans that then also serve the plain
calls of the same session (docs/benchmarks.md, section 7).

    python -m benchmarks.rules_cost [--samples 60] [--cases popular,behavior_based,...]
        [--profile 10] [--plan-cache-mode auto|force_custom_plan] [--seed 42]
        [--data DIR] [--json PATH]
"""

from __future__ import annotations

import argparse
import random
import re
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from app import recommenders
from app.db import queries
from app.importing.events import import_events
from app.importing.formats import event_format, item_format
from app.importing.items import import_items
from app.recommenders.base import Query
from benchmarks import harness, recommend_latency

DB = "bench_rules_cost"
K = 10
WARMUP = 3  # users whose calls are not timed: caches, prepared statements
PIN = "50"  # Star Wars (1977): the most rated film, pinned at position 3
CASES = (
    "popular",
    "behavior_based",
    "collaborative",
    "content_based",
    "hybrid",
    "hybrid_switching",
)

FILTER = {
    "and": [
        {"field": "categories", "op": "in", "value": ["Drama", "Comedy", "Action", "Thriller"]},
        {"field": "attributes.year", "op": ">=", "value": 1980},
    ]
}
BOOST_BURY_PIN = {
    "boost": [{"if": {"field": "categories", "op": "contains", "value": "Comedy"}, "by": 2}],
    "bury": [{"if": {"field": "attributes.year", "op": "<", "value": 1970}, "by": 0.5}],
    "pin": [{"product_id": PIN, "position": 3}],
}


@dataclass(frozen=True)
class Variant:
    rules: dict[str, Any] | None = None
    diversity: float = 0.0
    max_per_category: int | None = None


VARIANTS = {
    "plain": Variant(),
    "filter": Variant(rules={"filter": FILTER}),
    "boost+bury+pin": Variant(rules=BOOST_BURY_PIN),
    "diversity 0.5": Variant(diversity=0.5),
    "max_per_category 2": Variant(max_per_category=2),
    "all": Variant(rules={"filter": FILTER, **BOOST_BURY_PIN}, diversity=0.5, max_per_category=2),
}
PLAIN = "plain"


# ------------------------------------------------------------------ setup


def year_of(attributes: dict[str, Any]) -> int | None:
    found = re.search(r"(\d{4})$", str(attributes.get("release_date") or ""))
    return int(found.group(1)) if found else None


def load(server_url: str, args: argparse.Namespace) -> str:
    """ml-100k items (with attributes.year) and ratings, neighbour lists, ease and
    content trained; analyzed."""
    url = harness.fresh_database(server_url, DB)
    items = harness.ml100k_file(args.data, "u.item")
    ratings = harness.ml100k_file(args.data, "u.data")
    with harness.Stopwatch() as t:
        import_items(url, items, item_format("movielens-100k"), progress=False)
        add_years(url)
        import_events(url, ratings, event_format("movielens-100k"), progress=False)
    print(f"  loaded ml-100k in {t.seconds:.1f}s", flush=True)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(queries.get("refresh_neighbor_lists"), {"everything": True})
    args.train_seconds = train(url)
    print(f"  trained ease and content in {args.train_seconds:.1f}s", flush=True)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(queries.get("bench_analyze"))
    return url


def add_years(url: str) -> None:
    """attributes.year (a number) from each film's release date, before any embedding."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(queries.get("evaluation_items")).fetchall()
        items = []
        for product, title, description, categories, attributes, available in rows:
            year = year_of(attributes)
            items.append(
                {
                    "product_id": product,
                    "title": title,
                    "description": description,
                    "categories": categories,
                    "attributes": attributes | ({"year": year} if year else {}),
                    "available": available,
                }
            )
        conn.execute(queries.get("upsert_items"), {"items": Jsonb(items)})


def train(url: str) -> float:
    """`recsys train --model ease` and `--model content`, without validation."""
    from app.training import runner

    with harness.Stopwatch() as t:
        runner.train(url, ["ease", "content"], runner.Options(validate=False, progress=False))
    return t.seconds


# ------------------------------------------------------------------ timing


def params(case: str, variant: Variant, user: str) -> dict[str, Any]:
    """The `ranked` named query's parameters, as app.recommenders sends them."""
    strategy, method = recommenders.VARIANTS[case]
    query = Query(
        user_id=user,
        k=K,
        method=method,
        rules=variant.rules,
        diversity=variant.diversity,
        max_per_category=variant.max_per_category,
    )
    return recommenders.ranked_params(strategy, query)


def rotated(names: list[str], n: int) -> list[str]:
    return names[n % len(names) :] + names[: n % len(names)]


def calls(
    url: str, cases: list[str], users: list[str], plan_cache_mode: str = "auto"
) -> tuple[dict[str, dict[str, list[float]]], dict[str, dict[str, int]]]:
    """µs per call of every case and variant, autocommit, prepared, rows fetched;
    per user each case in turn, its variants in rotating order; the first WARMUP
    users untimed. Also the lists shorter than k."""
    names = list(VARIANTS)
    times: dict[str, dict[str, list[float]]] = {case: {v: [] for v in names} for case in cases}
    short = {case: dict.fromkeys(names, 0) for case in cases}
    query = queries.get("ranked")
    with psycopg.connect(url, autocommit=True, options=session(plan_cache_mode)) as conn:
        for n, user in enumerate(users):
            for c, case in enumerate(cases):
                for name in rotated(names, n + c):
                    p = params(case, VARIANTS[name], user)
                    with harness.Stopwatch() as t:
                        rows = conn.execute(query, p, prepare=True).fetchall()
                    if n >= WARMUP:
                        times[case][name].append(t.seconds * 1e6)
                        short[case][name] += len(rows) < K
            if n >= WARMUP and (n - WARMUP + 1) % 10 == 0:
                print(f"  {n - WARMUP + 1} users timed", flush=True)
    return times, short


def costs(times: dict[str, list[float]], short: dict[str, int]) -> dict[str, Any]:
    """Each variant's summary and its mean and p50 over plain's."""
    plain = harness.summary(times[PLAIN])
    out = {}
    for name, values in times.items():
        s = harness.summary(values)
        out[name] = {
            **s,
            "ratio_mean": s["mean"] / plain["mean"],
            "ratio_p50": s["p50"] / plain["p50"],
            "short_lists": short[name],
        }
    return out


# ------------------------------------------------------------------ profile


def session(plan_cache_mode: str) -> str:
    """The connection's options: the server's plan_cache_mode (auto: its default)."""
    return f"-c plan_cache_mode={plan_cache_mode}"


def profile(
    url: str, cases: list[str], users: list[str], n: int, plan_cache_mode: str = "auto"
) -> dict[str, Any]:
    """Per case and variant: n calls in one transaction with track_functions =
    'pl'; each recsys function's calls and self/total ms per list."""
    out: dict[str, Any] = {}
    query = queries.get("ranked")
    with psycopg.connect(url, options=session(plan_cache_mode)) as conn:
        try:
            conn.execute(queries.get("bench_track_functions"))
        except psycopg.Error as error:  # not a superuser: no profile
            print(f"  no profile: {error}", flush=True)
            return {}
        conn.commit()
        for case in cases:
            out[case] = {}
            for name, variant in VARIANTS.items():
                # One transaction: pending statistics are flushed only between
                # them, so the difference of two readings is this variant's.
                before = functions(conn)
                for user in users[:n]:
                    conn.execute(query, params(case, variant, user), prepare=True).fetchall()
                after = functions(conn)
                conn.rollback()
                out[case][name] = {
                    f: {
                        "calls_per_list": (c - before.get(f, (0, 0, 0))[0]) / n,
                        "self_ms_per_list": (s - before.get(f, (0, 0, 0))[1]) / n,
                        "total_ms_per_list": (tot - before.get(f, (0, 0, 0))[2]) / n,
                    }
                    for f, (c, s, tot) in after.items()
                    if c > before.get(f, (0, 0, 0))[0]
                }
    return out


def functions(conn: psycopg.Connection[Any]) -> dict[str, tuple[int, float, float]]:
    rows = conn.execute(queries.get("bench_function_profile")).fetchall()
    return {str(f): (int(c), float(s), float(t)) for f, c, s, t in rows}


# ------------------------------------------------------------------ run


def report(results: dict[str, Any], args: argparse.Namespace) -> None:
    rows = []
    for case, by_variant in results["us"].items():
        for name, s in by_variant.items():
            rows.append(
                [
                    case,
                    name,
                    s["n"],
                    s["mean"],
                    s["p50"],
                    s["p99"],
                    s["ratio_mean"],
                    s["ratio_p50"],
                    s["short_lists"],
                ]
            )
    harness.print_table(
        f"recsys.ranked per call in µs, k={K}, {args.samples} users, interleaved"
        " (one autocommit connection, prepared)",
        ["case", "variant", "n", "mean", "p50", "p99", "mean/plain", "p50/plain", "short"],
        rows,
    )
    if results.get("profile"):
        rows = []
        for case, by_variant in results["profile"].items():
            for name, functions in by_variant.items():
                top = sorted(functions.items(), key=lambda kv: -kv[1]["self_ms_per_list"])[:4]
                rows.append(
                    [
                        case,
                        name,
                        ", ".join(f"{f} {v['self_ms_per_list']:.2f}" for f, v in top),
                    ]
                )
        harness.print_table(
            f"where the time goes: self ms per list of the top recsys functions"
            f" ({args.profile} lists each, track_functions = pl)",
            ["case", "variant", "functions"],
            rows,
        )


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = harness.parser(__doc__.splitlines()[0] if __doc__ else "rules_cost")
    p.add_argument("--samples", type=int, default=60, help="users timed (random, all cases)")
    p.add_argument("--cases", type=cases_arg, default=list(CASES))
    p.add_argument("--profile", type=int, default=10, help="lists per profiled variant; 0: skip")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument(
        "--plan-cache-mode",
        choices=("auto", "force_custom_plan", "force_generic_plan"),
        default="auto",
        help="the timed sessions' plan_cache_mode (auto: PostgreSQL's default)",
    )
    return p.parse_args(argv)


def cases_arg(value: str) -> list[str]:
    chosen = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [v for v in chosen if v not in CASES]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(CASES)}")
    return chosen


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    with harness.postgres() as server_url:
        settings = harness.banner(server_url)
        url = load(server_url, args)
        users = recommend_latency.keys(url, None, args.seed)["users"]
        random.Random(args.seed).shuffle(users)
        sample = users[: WARMUP + args.samples]
        args.samples = max(0, len(sample) - WARMUP)
        with harness.Stopwatch() as t:
            times, short = calls(url, args.cases, sample, args.plan_cache_mode)
        print(f"  timed in {t.seconds:.0f}s", flush=True)
        results: dict[str, Any] = {
            "us": {case: costs(times[case], short[case]) for case in args.cases},
            "seconds": t.seconds,
        }
        if args.profile:
            results["profile"] = profile(url, args.cases, users, args.profile, args.plan_cache_mode)
        harness.drop_database(server_url, DB)
    report(results, args)
    payload = {
        "benchmark": "rules_cost",
        "machine": harness.machine(),
        "postgres": settings,
        "args": {k: str(v) for k, v in vars(args).items()},
        "variants": {
            name: {
                "rules": v.rules,
                "diversity": v.diversity,
                "max_per_category": v.max_per_category,
            }
            for name, v in VARIANTS.items()
        },
        **results,
    }
    harness.write_json(args.json, payload)
    return payload


if __name__ == "__main__":
    main()
