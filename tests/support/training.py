"""Tiny fixed data sets for the model tests: two groups of users with opposite tastes."""

from __future__ import annotations

from typing import Any

import numpy as np
import psycopg

from tests.support.events import Event, at, ingest

GROUP_A = [f"a{i}" for i in range(8)]
GROUP_B = [f"b{i}" for i in range(8)]


def taste_ratings(users: int = 24, seed: int = 7) -> list[Event]:
    """Even users love the a-items and dislike the b-items, odd users the reverse;
    each user rates a fixed random 70% of the 16 items, in random order, one an hour."""
    rng = np.random.default_rng(seed)
    events: list[Event] = []
    for u in range(users):
        liked, disliked = (GROUP_A, GROUP_B) if u % 2 == 0 else (GROUP_B, GROUP_A)
        for n, item in enumerate(rng.permutation(liked + disliked)):
            if rng.random() < 0.7:
                base = 5 if item in liked else 1
                value = float(np.clip(base + rng.integers(-1, 2), 1, 5))
                events.append((f"u{u}", str(item), "rating", value, at(u * 24 + n)))
    return events


def views_of_groups(users: int = 24, seed: int = 3) -> list[Event]:
    """Implicit only: even users view a-items, odd users b-items (60% of them each)."""
    rng = np.random.default_rng(seed)
    events: list[Event] = []
    for u in range(users):
        for n, item in enumerate(GROUP_A if u % 2 == 0 else GROUP_B):
            if rng.random() < 0.6:
                events.append((f"u{u}", item, "view", None, at(u * 24 + n)))
    return events


def load(conn: psycopg.Connection[Any], events: list[Event]) -> None:
    ingest(conn, events)
    conn.commit()
