"""A synthetic, popularity-skewed shop: catalogue, users and events, deterministic by seed.

Item popularity is Zipf (weight 1/rank^s, s ~ 1: the top 1% of 10 000 items draw
about half the events). User activity is Zipf-Mandelbrot, 1/(rank + q) with
q = users/100: a long tail of light users and heavy users with a few hundred
events, not tens of thousands (one user with 80 000 events would dominate the
pair counts and no real shop looks like that). Half of a user's events fall in
a favourite category, so co-occurrence and content carry signal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from app.demo.shop import ADJECTIVES, CATEGORIES

TYPES = ("view", "add_to_cart", "purchase")
TYPE_SHARES = (0.85, 0.10, 0.05)
DAYS = 90
AFFINITY = 0.5  # share of a user's events inside their favourite category


@dataclass(frozen=True)
class Spec:
    users: int = 100_000
    items: int = 10_000
    events: int = 1_000_000
    seed: int = 42
    item_exponent: float = 1.0


@dataclass(frozen=True)
class Workload:
    """Events as parallel arrays in time order (the order they are loaded in)."""

    spec: Spec
    end: datetime
    item_category: np.ndarray  # item index -> category index
    item_weights: np.ndarray  # item index -> probability of an event
    user_weights: np.ndarray  # user index -> probability of an event
    event_user: np.ndarray  # int32 user index (0-based; id "user-{i+1}")
    event_item: np.ndarray  # int32 item index
    event_type: np.ndarray  # int8 index into TYPES
    event_offset: np.ndarray  # float64 seconds before `end`

    def user_id(self, index: int) -> str:
        return f"user-{index + 1}"

    def item_id(self, index: int) -> str:
        return f"item-{index + 1}"

    def active_users(self) -> np.ndarray:
        """Indices of users with at least one event."""
        return np.flatnonzero(np.bincount(self.event_user, minlength=self.spec.users))


def today() -> datetime:
    """The default end of the event window: the start of the current UTC day, so
    one seed gives the same timestamps all day and popularity is not decayed away."""
    now = datetime.now(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def generate(spec: Spec, end: datetime | None = None) -> Workload:
    rng = np.random.default_rng(spec.seed)
    n_categories = len(CATEGORIES)
    item_category = rng.integers(0, n_categories, spec.items, dtype=np.int32)
    item_weights = zipf(spec.items, spec.item_exponent)
    user_weights = mandelbrot(spec.users, max(1.0, spec.users / 100))
    users = event_users(rng, user_weights, spec.events)
    favourite = rng.integers(0, n_categories, spec.users, dtype=np.int32)
    items = event_items(rng, item_weights, item_category, favourite[users])
    kinds = rng.choice(len(TYPES), spec.events, p=TYPE_SHARES).astype(np.int8)
    offsets = rng.uniform(0, DAYS * 86_400.0, spec.events)
    order = np.argsort(-offsets, kind="stable")  # oldest first
    return Workload(
        spec,
        end or today(),
        item_category,
        item_weights,
        user_weights,
        users[order],
        items[order],
        kinds[order],
        offsets[order],
    )


def zipf(n: int, exponent: float) -> np.ndarray:
    weights: np.ndarray = 1.0 / np.arange(1, n + 1, dtype=np.float64) ** exponent
    return normalised(weights)


def mandelbrot(n: int, q: float) -> np.ndarray:
    weights: np.ndarray = 1.0 / (np.arange(1, n + 1, dtype=np.float64) + q)
    return normalised(weights)


def normalised(weights: np.ndarray) -> np.ndarray:
    out: np.ndarray = weights / weights.sum()
    return out


def event_users(rng: np.random.Generator, weights: np.ndarray, events: int) -> np.ndarray:
    """Each user's event count: one each when there are enough events (every
    generated user exists), the rest by activity."""
    base = np.ones(len(weights), dtype=np.int64) if events >= len(weights) else 0
    counts = base + rng.multinomial(events - int(np.sum(base)), weights)
    return np.repeat(np.arange(len(weights), dtype=np.int32), counts)


def event_items(
    rng: np.random.Generator, weights: np.ndarray, category: np.ndarray, favourite: np.ndarray
) -> np.ndarray:
    """Popularity-weighted items; AFFINITY of them from the user's favourite category."""
    items = rng.choice(len(weights), len(favourite), p=weights).astype(np.int32)
    affine = np.flatnonzero(rng.random(len(favourite)) < AFFINITY)
    for c in np.unique(favourite[affine]):
        members = np.flatnonzero(category == c)
        if len(members) == 0:
            continue
        slots = affine[favourite[affine] == c]
        p = weights[members] / weights[members].sum()
        items[slots] = rng.choice(members, len(slots), p=p)
    return items


def item_rows(workload: Workload) -> list[dict[str, Any]]:
    """The catalogue as `recsys.upsert_items` takes it: titles, descriptions,
    categories and a price, so content embeddings have text to learn from."""
    rng = np.random.default_rng(workload.spec.seed + 1)
    names = list(CATEGORIES)
    rows = []
    for index, c in enumerate(workload.item_category):
        category = names[int(c)]
        nouns, tagline = CATEGORIES[category]
        title = f"{ADJECTIVES[rng.integers(len(ADJECTIVES))]} {nouns[rng.integers(len(nouns))]}"
        rows.append(
            {
                "product_id": workload.item_id(index),
                "title": f"{title} {index + 1}",
                "description": f"{title}: {tagline}.",
                "categories": [category],
                "attributes": {"price": round(float(rng.uniform(3, 300)), 2)},
            }
        )
    return rows


def timestamps(workload: Workload, start: int, stop: int) -> list[str]:
    """ISO 8601 timestamps of events start..stop-1."""
    base = workload.end.timestamp()
    return [
        datetime.fromtimestamp(base - s, UTC).isoformat() for s in workload.event_offset[start:stop]
    ]
