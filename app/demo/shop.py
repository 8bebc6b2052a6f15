"""Generate a small, popularity-skewed shop: catalogue, users and a funnel of events."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

CATEGORIES = {
    "Books": (["Novel", "Cookbook", "Atlas", "Memoir", "Guide"], "pages that stay with you"),
    "Electronics": (
        ["Headphones", "Charger", "Speaker", "Keyboard", "Camera"],
        "crisp and reliable",
    ),
    "Home": (["Lamp", "Blanket", "Vase", "Mirror", "Clock"], "for a calmer home"),
    "Garden": (["Trowel", "Planter", "Hose", "Seeds", "Gloves"], "grows with you"),
    "Toys": (["Puzzle", "Robot", "Kite", "Blocks", "Doll"], "hours of play"),
    "Sports": (["Ball", "Racket", "Mat", "Bottle", "Helmet"], "built for the game"),
    "Kitchen": (["Knife", "Pan", "Kettle", "Grinder", "Board"], "cooks like a pro"),
    "Beauty": (["Serum", "Brush", "Balm", "Soap", "Mask"], "gentle every day"),
}
ADJECTIVES = ["Classic", "Compact", "Deluxe", "Eco", "Smart", "Vintage", "Pro", "Mini", "Bold"]


@dataclass(frozen=True)
class Shop:
    items: list[dict[str, Any]]
    events: list[dict[str, Any]]


def generate(
    n_users: int = 500, n_items: int = 200, events_per_user: int = 10, seed: int = 42
) -> Shop:
    rng = random.Random(seed)
    items = [_item(rng, i) for i in range(1, n_items + 1)]
    by_category: dict[str, list[str]] = {}
    for item in items:
        by_category.setdefault(item["categories"][0], []).append(item["product_id"])
    start = datetime.now(UTC) - timedelta(days=30)
    events = []
    for u in range(1, n_users + 1):
        events += _session(rng, f"user-{u}", by_category, events_per_user, start)
    return Shop(items=items, events=events)


def _item(rng: random.Random, i: int) -> dict[str, Any]:
    category = rng.choice(list(CATEGORIES))
    nouns, tagline = CATEGORIES[category]
    title = f"{rng.choice(ADJECTIVES)} {rng.choice(nouns)} {i}"
    return {
        "product_id": f"item-{i}",
        "title": title,
        "description": f"{title}: {tagline}.",
        "categories": [category],
        "attributes": {"price": round(rng.uniform(3, 300), 2)},
    }


def _zipf_pick(rng: random.Random, ids: list[str]) -> str:
    # Rank r is chosen with weight 1/r: a few best-sellers, a long tail.
    weights = [1 / (rank + 1) for rank in range(len(ids))]
    return rng.choices(ids, weights=weights)[0]


def _session(
    rng: random.Random, user: str, by_category: dict[str, list[str]], n: int, start: datetime
) -> list[dict[str, Any]]:
    favourites = rng.sample(sorted(by_category), k=2)
    ts = start + timedelta(minutes=rng.randrange(30 * 24 * 60))
    events: list[dict[str, Any]] = []
    while len(events) < n:
        category = rng.choice(favourites) if rng.random() < 0.8 else rng.choice(sorted(by_category))
        item = _zipf_pick(rng, by_category[category])
        ts += timedelta(minutes=rng.randrange(1, 90))
        events.append(_event(user, item, "view", ts))
        if rng.random() < 0.3:
            events.append(_event(user, item, "add_to_cart", ts + timedelta(minutes=2)))
            if rng.random() < 0.5:
                events.append(_event(user, item, "purchase", ts + timedelta(minutes=5)))
    return events[:n]


def _event(user: str, item: str, kind: str, ts: datetime) -> dict[str, Any]:
    return {"user_id": user, "product_id": item, "event_type": kind, "timestamp": ts}
