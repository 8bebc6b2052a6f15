"""Beyond accuracy: how much of the catalogue lists reach, how unexpected and
how varied they are, and how strongly they lean on popular items."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

# Ids are whatever the lists hold (external ids: text); Any keeps Mapping's
# invariant key type out of the way.
Lists = Mapping[Any, Sequence[Any]]
Counts = Mapping[Any, int]

HEAD_SHARE = 0.2  # the "short head": the most popular 20% of the catalogue


def coverage(lists: Lists, catalogue: Iterable[Any]) -> float:
    """Share of the catalogue that appears in at least one list."""
    items = set(catalogue)
    if not items:
        return 0.0
    shown = {item for ranked in lists.values() for item in ranked}
    return len(shown & items) / len(items)


def self_information(users_of_item: int, n_users: int) -> float:
    """-log2 p(item), p = (users who had it + 1) / (users + 1): add-one smoothed,
    so an item no training user had is finite and the rarest of all."""
    return -math.log2((users_of_item + 1) / (n_users + 1))


def novelty(lists: Lists, users_of: Counts, n_users: int) -> float:
    """Mean self-information of recommended items, averaged per list (Zhou et al. 2010)."""
    per_list = [
        np.mean([self_information(users_of.get(item, 0), n_users) for item in ranked])
        for ranked in lists.values()
        if ranked
    ]
    return float(np.mean(per_list)) if per_list else 0.0


def intra_list_diversity(lists: Lists, vectors: Mapping[Any, np.ndarray]) -> float | None:
    """Mean pairwise cosine distance (1 - cos) between the embedded items of each
    list with at least two of them; None when no list has two embedded items."""
    per_list = []
    for ranked in lists.values():
        rows = [vectors[item] for item in ranked if item in vectors]
        if len(rows) < 2:
            continue
        unit = _normalised(np.asarray(rows, dtype=np.float64))
        cos = unit @ unit.T
        pairs = np.triu_indices(len(rows), k=1)
        per_list.append(float(np.mean(1 - cos[pairs])))
    return float(np.mean(per_list)) if per_list else None


def _normalised(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    unit: np.ndarray = np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)
    return unit


def head(users_of: Counts, catalogue: Sequence[Any]) -> set[Any]:
    """The most popular HEAD_SHARE of the catalogue (ties broken by id, as text)."""
    ordered = sorted(catalogue, key=lambda item: (-users_of.get(item, 0), str(item)))
    return set(ordered[: math.ceil(len(ordered) * HEAD_SHARE)])


def popularity(lists: Lists, users_of: Counts, short_head: set[Any]) -> dict[str, float]:
    """Popularity bias: `arp`, the mean number of training users of a recommended
    item (Abdollahpouri et al.), and `head_share`, the share of recommendations
    taken from the short head."""
    shown = [item for ranked in lists.values() for item in ranked]
    if not shown:
        return {"arp": 0.0, "head_share": 0.0}
    return {
        "arp": float(np.mean([users_of.get(item, 0) for item in shown])),
        "head_share": float(np.mean([item in short_head for item in shown])),
    }


def popularity_deciles(lists: Lists, users_of: Counts, catalogue: Sequence[Any]) -> list[float]:
    """Share of all recommendations falling in each tenth of the catalogue,
    most popular tenth first (the chart's curve)."""
    ordered = sorted(catalogue, key=lambda item: (-users_of.get(item, 0), str(item)))
    decile = {item: min(9, i * 10 // max(len(ordered), 1)) for i, item in enumerate(ordered)}
    counts = np.zeros(10)
    for ranked in lists.values():
        for item in ranked:
            if item in decile:
                counts[decile[item]] += 1
    total = counts.sum()
    return [float(c / total) if total else 0.0 for c in counts]
