"""Do content neighbours share a category? For sampled items, their top k by
content (content_based by product, the lists of
`GET /recommend?case=content_based&product_id=`) against the item's own
categories: the share sharing at least one, and the mean Jaccard of the
category sets, next to the same figures for every other item (chance)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import psycopg

from app.db import queries


def categories_of(url: str) -> dict[str, set[str]]:
    """Embedded, available items that have categories -> their categories."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(queries.get("evaluation_item_categories")).fetchall()
    return {str(product): set(found) for product, found in rows}


def sample(categories: Mapping[str, set[str]], n: int, seed: int) -> list[str]:
    ids = sorted(categories)
    picked = np.random.default_rng(seed).choice(len(ids), size=min(n, len(ids)), replace=False)
    return [ids[int(i)] for i in picked]


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def _means(mine: set[str], others: Sequence[set[str]]) -> tuple[float, float]:
    if not others:
        return 0.0, 0.0
    shares = [bool(mine & theirs) for theirs in others]
    return float(np.mean(shares)), float(np.mean([jaccard(mine, t) for t in others]))


def agreement(
    lists: Mapping[str, Sequence[str]], categories: Mapping[str, set[str]]
) -> dict[str, float]:
    """Mean over the queried items of the share and Jaccard, for the lists and for chance."""
    listed, chance = [], []
    for product, found in lists.items():
        mine = categories[product]
        listed.append(_means(mine, [categories.get(p, set()) for p in found]))
        chance.append(_means(mine, [c for p, c in categories.items() if p != product]))
    return {
        "queries": len(lists),
        "share_sharing_a_category": float(np.mean([s for s, _ in listed])),
        "chance_share": float(np.mean([s for s, _ in chance])),
        "category_jaccard": float(np.mean([j for _, j in listed])),
        "chance_jaccard": float(np.mean([j for _, j in chance])),
        "mean_list_length": float(np.mean([len(found) for found in lists.values()])),
    }
