"""Visitors of the demo shop, through the real API in this process: every
strategy's lists are asked for and clicked, and an A/B experiment (hybrid
against popular) runs, so the dashboard's loop and experiment panels, and
every case of the demo page, show real output.

A simulated visitor clicks a shown item with a probability that is high when
the item is in one of their two favourite categories (the shop's generator
gave each user two) and low otherwise; a click is sometimes followed by a cart
and a purchase. Lists that match taste earn more clicks, which is what a
better strategy should show.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from tqdm import tqdm

from app import recommenders
from app.db import queries

EXPERIMENT = "demo-home"
ARMS = [
    {"name": "control", "case": "popular"},
    {"name": "treatment", "case": "hybrid", "method": "adaptive"},
]
P_LIKED, P_OTHER = 0.25, 0.02  # click probability of an item in / out of a favourite category
P_CART, P_PURCHASE = 0.3, 0.5  # after a click, then after a cart
K = 10

Say = Callable[[str], None]


@dataclass(frozen=True)
class Visitor:
    user_id: str
    favourites: frozenset[str]


def visitors(url: str, n: int, seed: int) -> tuple[list[Visitor], dict[str, str]]:
    """n users of the shop with their two most frequent categories, and each
    item's category."""
    with psycopg.connect(url) as conn:
        categories = {
            str(item): str(category)
            for item, category in conn.execute(queries.get("demo_item_categories"))
        }
        taste: dict[str, list[str]] = {}
        for user, category, _ in conn.execute(queries.get("demo_user_categories")):
            taste.setdefault(user, []).append(category)  # most frequent first
    users = sorted(taste)
    chosen = random.Random(seed).sample(users, min(n, len(users)))
    return [Visitor(u, frozenset(taste[u][:2])) for u in chosen], categories


async def visit(
    client: Any, path: str, visitor: Visitor, categories: dict[str, str], rng: random.Random
) -> int:
    """Ask for a list, click what appeals; the clicks."""
    response = await client.get(path)
    body = await response.get_json()
    if response.status_code != 200:
        raise RuntimeError(f"{path}: {response.status_code} {body}")
    clicks = 0
    for rec in body["recommendations"]:
        liked = categories.get(rec["product_id"]) in visitor.favourites
        if rng.random() >= (P_LIKED if liked else P_OTHER):
            continue
        clicks += 1
        for event_type in funnel(rng):
            event = {
                "user_id": visitor.user_id,
                "product_id": rec["product_id"],
                "event_type": event_type,
                "recomm_id": body["recomm_id"],
            }
            await client.post("/event", json=event)
    return clicks


def funnel(rng: random.Random) -> list[str]:
    steps = ["view"]
    if rng.random() < P_CART:
        steps.append("add_to_cart")
        if rng.random() < P_PURCHASE:
            steps.append("purchase")
    return steps


async def start_experiment(client: Any) -> bool:
    """Create and start the demo experiment; False when a previous demo did."""
    definition = {
        "name": EXPERIMENT,
        "mode": "ab",
        "description": "recsys demo: adaptive hybrid against popular items",
        "arms": ARMS,
        "start": True,
    }
    response = await client.post("/admin/experiments", json=definition)
    if response.status_code == 409:
        return False
    if response.status_code != 201:
        raise RuntimeError(f"creating the experiment: {await response.get_json()}")
    return True


async def run(client: Any, url: str, users: int, per_strategy: int, seed: int, say: Say) -> None:
    rng = random.Random(seed)
    crowd, categories = visitors(url, users, seed)
    paths = []
    for name, (case, method) in recommenders.VARIANTS.items():
        for v in rng.sample(crowd, min(per_strategy, len(crowd))):
            query = f"/recommend?user_id={v.user_id}&case={case}&k={K}"
            paths.append((f"{query}&method={method}" if method else query, v, name))
    fresh = await start_experiment(client)
    if fresh:
        paths += [
            (f"/recommend?experiment={EXPERIMENT}&user_id={v.user_id}&k={K}", v, "ab")
            for v in crowd
        ]
    rng.shuffle(paths)
    clicks: Counter[str] = Counter()
    for path, visitor, label in tqdm(paths, desc="demo visitors", unit="list"):
        clicks[label] += await visit(client, path, visitor, categories, rng)
    say(f"simulated {len(paths)} lists and {sum(clicks.values())} clicks")
    if not fresh:
        say(f"experiment {EXPERIMENT} exists already (an earlier demo): left as it is")
        return
    report = await (await client.get(f"/admin/experiments/{EXPERIMENT}/report")).get_json()
    say(f"experiment {EXPERIMENT}: {report['verdict']}")
