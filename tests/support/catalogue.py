"""A small catalogue with text: space films and cooking shows, and their fans."""

from __future__ import annotations

from typing import Any

import numpy as np
import psycopg
from psycopg.types.json import Jsonb

from tests.support.events import Event, at, ingest

SPACE = [f"s{i}" for i in range(12)]
FOOD = [f"f{i}" for i in range(12)]
WORDS = {
    "s": ["star", "galaxy", "rocket", "planet", "alien", "orbit", "nebula", "astronaut"],
    "f": ["kitchen", "recipe", "bread", "pasta", "chef", "soup", "baking", "spice"],
}


def item(product: str) -> dict[str, Any]:
    kind, n = product[0], int(product[1:])
    words = WORDS[kind]
    title = f"{words[n % 8].title()} {words[(n + 3) % 8]} {n}"
    return {
        "product_id": product,
        "title": title,
        "description": " ".join(words[(n + j) % 8] for j in range(4)),
        "categories": ["scifi" if kind == "s" else "food"] + (["sale"] if n % 3 == 0 else []),
        "attributes": {"color": "red" if n % 2 else "blue"},
    }


def catalogue() -> list[dict[str, Any]]:
    return [item(p) for p in SPACE + FOOD]


def fans(users: int = 16, seed: int = 5) -> list[Event]:
    """Even users view space items, odd users food items (half of them each, in
    random order, one an hour)."""
    rng = np.random.default_rng(seed)
    events: list[Event] = []
    for u in range(users):
        group = SPACE if u % 2 == 0 else FOOD
        for n, product in enumerate(rng.permutation(group)[:6]):
            events.append((f"u{u}", str(product), "view", None, at(u * 24 + n)))
    return events


def load(conn: psycopg.Connection[Any], with_events: bool = True) -> None:
    conn.execute("select * from recsys.upsert_items(%s)", (Jsonb(catalogue()),))
    if with_events:
        ingest(conn, fans())
    conn.commit()
