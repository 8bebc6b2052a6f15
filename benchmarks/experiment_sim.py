"""A simulated experiment: hybrid against popular, as an A/B test and as
team-draft interleaving, through the API, with MovieLens 100K users who act on
an item of a served list when it is in their held-out future.

    python -m benchmarks.experiment_sim [--data DIR] [--users N] [--check-every 10]
        [--orders 1] [--control popular] [--treatment hybrid] [--no-train] [--seed 7]
        [--json PATH]

Each user's last 20% of ratings (by time) are held out; the rest are loaded as
rating events and the models trained on them (`recsys train`, unless
--no-train). Then, for each design in a fresh copy of that database, the users
come one by one in a shuffled order: GET /recommend?experiment=...&k=10, and a
view event carrying the list's recomm_id for every item of the list in their
held-out future. After every --check-every users the experiment's report
(app.experiments.report, what GET /admin/experiments/{name}/report answers) is
read: the users a design needed is the first count at which the report names a
winner with p < 0.01. The true winner is measured outside any experiment:
every user's list from each arm, scored against their held-out future.
--orders N repeats both designs with N user orders (seeds seed, seed + 1, ...):
how many users a design needs depends on who comes first.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from app import create_app, recommenders
from app.db import events as db_events
from app.db import queries
from app.experiments import report
from app.importing.formats import item_format
from app.importing.items import import_items
from app.recommenders.base import Query
from app.training import runner
from benchmarks import harness

BASE = "bench_experiment_base"
K = 10
HELD_OUT = 0.2
ALPHA = 0.01
# The control first; --control and --treatment name other strategies.
ARMS = ({"name": "popular", "case": "popular"}, {"name": "hybrid", "case": "hybrid"})


@dataclass
class Split:
    train: list[tuple[str, str, float, int]] = field(default_factory=list)  # user, item, value, ts
    future: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))


@dataclass
class Design:
    mode: str
    seed: int
    checks: list[dict[str, Any]] = field(default_factory=list)
    users_needed: int | None = None  # the first check at p < ALPHA naming a winner
    stayed: float | None = None  # share of later checks still at p < ALPHA
    # The first check from which every later one is at p < ALPHA: peeking at
    # every check, the first crossing can be luck; this one is not undone.
    users_to_stay: int | None = None
    final: dict[str, Any] = field(default_factory=dict)


def split(data: Path) -> Split:
    """Per user, ratings by time: the first 80% to load, the last 20% held out."""
    by_user: dict[str, list[tuple[int, str, float]]] = defaultdict(list)
    for line in harness.ml100k_file(data, "u.data").read_text().splitlines():
        user, item, value, ts = line.split("\t")
        by_user[user].append((int(ts), item, float(value)))
    out = Split()
    for user, rows in by_user.items():
        rows.sort()
        cut = len(rows) - max(1, round(len(rows) * HELD_OUT))
        out.train += [(user, item, value, ts) for ts, item, value in rows[:cut]]
        out.future[user] = {item for _, item, _ in rows[cut:]}
    return out


def load_base(server_url: str, data: Path, parts: Split, train: bool) -> str:
    url = harness.fresh_database(server_url, BASE)
    import_items(url, harness.ml100k_file(data, "u.item"), item_format("movielens-100k"), False)
    events = [
        db_events.NewEvent(u, i, "rating", value=v, timestamp=datetime.fromtimestamp(ts, UTC))
        for u, i, v, ts in parts.train
    ]
    with psycopg.connect(url) as conn:
        for start in range(0, len(events), 5000):
            batch = db_events.ingest_params(events[start : start + 5000])
            conn.execute(queries.get("ingest_events"), batch)
        conn.commit()
    if train:
        with harness.Stopwatch() as t:
            runner.train(url, ("all",), runner.Options(progress=False))
        print(f"  trained every model in {t.seconds:.0f}s", flush=True)
    return url


def copy_of(server_url: str, name: str) -> str:
    """A fresh database cloned from the loaded and trained base."""
    return harness.create_database(server_url, name, template=BASE)


async def truth(
    url: str, parts: Split, users: list[str], arms: tuple[dict[str, str], ...]
) -> dict[str, float]:
    """Each arm's user click rate outside any experiment: the share of users
    whose top 10 holds an item of their held-out future."""
    rates = {}
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        for arm in arms:
            hits = 0
            for user in users:
                params = recommenders.recommend_params(arm["case"], Query(user_id=user, k=K))
                cur = await conn.execute(queries.get("recommend"), params)
                hits += any(r[0] in parts.future[user] for r in await cur.fetchall())
            rates[arm["name"]] = hits / len(users)
    return rates


async def run_design(
    url: str,
    mode: str,
    parts: Split,
    users: list[str],
    every: int,
    seed: int,
    arms: tuple[dict[str, str], ...] = ARMS,
) -> Design:
    design = Design(mode, seed)
    name = f"sim-{mode}"
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"database_url": url, "data_dir": Path(tmp), "neighbor_refresh": None})
        async with app.test_app() as served:
            http = served.test_client()
            body = {"name": name, "mode": mode, "arms": list(arms), "start": True}
            created = await http.post("/admin/experiments", json=body)
            assert created.status_code == 201, await created.get_json()
            async with await psycopg.AsyncConnection.connect(url, row_factory=dict_row) as conn:
                for n, user in enumerate(users, 1):
                    await visit(http, name, user, parts.future[user])
                    if n % every == 0 or n == len(users):
                        design.checks.append(await check(conn, name, n))
                await conn.rollback()
    return conclude(design)


async def visit(http: Any, experiment: str, user: str, future: set[str]) -> None:
    """The user asks for a list and views every item of it in their future."""
    response = await http.get(
        "/recommend", query_string={"experiment": experiment, "user_id": user, "k": K}
    )
    body = await response.get_json()
    assert response.status_code == 200, body
    clicks = [
        {
            "user_id": user,
            "product_id": r["product_id"],
            "event_type": "view",
            "recomm_id": body["recomm_id"],
        }
        for r in body["recommendations"]
        if r["product_id"] in future
    ]
    if clicks:
        posted = await http.post("/events", json={"events": clicks})
        assert posted.status_code == 201, await posted.get_json()


async def check(conn: Any, experiment: str, users: int) -> dict[str, Any]:
    found = await report.build(conn, experiment)
    await conn.rollback()
    if found.interleaving is not None:
        p, effect = found.interleaving.p_value, found.interleaving.share
    else:
        comparison = found.comparisons[0].click_rate
        p, effect = comparison.p_value, comparison.difference
    rates = {a.name: a.user_click_rate for a in found.arms}
    return {
        "users": users,
        "p": p,
        "winner": found.winner,
        "effect": effect,
        "rates": rates,
        "verdict": found.verdict,
    }


def conclude(design: Design) -> Design:
    significant = [c["p"] is not None and c["p"] < ALPHA and c["winner"] for c in design.checks]
    first = next((n for n, ok in enumerate(significant) if ok), None)
    if first is not None:
        design.users_needed = design.checks[first]["users"]
        later = significant[first:]
        design.stayed = sum(bool(s) for s in later) / len(later)
    if significant and significant[-1]:
        last_miss = max((n for n, ok in enumerate(significant) if not ok), default=-1)
        design.users_to_stay = design.checks[last_miss + 1]["users"]
    design.final = design.checks[-1]
    return design


def main(argv: list[str] | None = None) -> None:
    parser = harness.parser(__doc__ or "")
    parser.add_argument("--users", type=int, default=None, help="at most N users (default all)")
    parser.add_argument("--check-every", type=int, default=10)
    parser.add_argument("--no-train", action="store_true", help="skip recsys train")
    parser.add_argument("--seed", type=int, default=7, help="the first user order's seed")
    parser.add_argument("--orders", type=int, default=1, help="user orders to run (seeds on)")
    parser.add_argument("--control", default="popular", help="the control arm's strategy")
    parser.add_argument("--treatment", default="hybrid", help="the treatment arm's strategy")
    args = parser.parse_args(argv)
    asyncio.run(run(args))


async def run(args: argparse.Namespace) -> None:
    parts = split(args.data)
    everyone = sorted(parts.future)
    everyone = everyone[: args.users] if args.users else everyone
    with harness.postgres() as server_url:
        harness.banner(server_url)
        base = load_base(server_url, args.data, parts, train=not args.no_train)
        arms = tuple({"name": c, "case": c} for c in (args.control, args.treatment))
        rates = await truth(base, parts, everyone, arms)
        designs = []
        for seed in range(args.seed, args.seed + args.orders):
            users = random.Random(seed).sample(everyone, len(everyone))
            for mode in ("ab", "interleave"):
                url = copy_of(server_url, f"bench_experiment_{mode}")
                with harness.Stopwatch() as t:
                    design = await run_design(url, mode, parts, users, args.check_every, seed, arms)
                designs.append(design)
                print(f"  {mode}, order {seed}: {len(users)} users in {t.seconds:.0f}s", flush=True)
                harness.drop_database(server_url, f"bench_experiment_{mode}")
        harness.drop_database(server_url, BASE)
    show(rates, designs, len(everyone))
    harness.write_json(
        args.json,
        {
            "machine": harness.machine(),
            "users": len(everyone),
            "truth": rates,
            "designs": [asdict(d) for d in designs],
        },
    )


def show(rates: dict[str, float], designs: list[Design], users: int) -> None:
    truth_winner = max(rates, key=lambda a: rates[a])
    print(
        f"\ntrue user click rates (every user, each arm's top {K}): "
        + ", ".join(f"{a} {r:.3f}" for a, r in rates.items())
        + f" -> {truth_winner}"
    )
    rows = [
        [
            d.mode,
            d.seed,
            d.users_needed if d.users_needed is not None else f"> {users}",
            d.users_to_stay if d.users_to_stay is not None else f"> {users}",
            harness.fmt(d.stayed),
            d.final["winner"] or "none",
            f"{d.final['p']:.2e}",
            harness.fmt(d.final["effect"]),
            d.final["verdict"],
        ]
        for d in designs
    ]
    harness.print_table(
        f"users needed for p < {ALPHA} (checked every few users)",
        [
            "design",
            "order",
            "users needed",
            "to stay",
            "stayed",
            "final winner",
            "final p",
            "effect",
            "verdict",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
