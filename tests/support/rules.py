"""A plain-Python reference of the rule language and of recsys.ranked's
ordering (docs/rules.md), for the tests to compare the SQL against."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

DATES = ("available_from", "expires_at", "created_at", "updated_at")
TOP_UP = ("popular", "new in the catalogue")


@dataclass
class Item:
    product_id: str
    categories: list[str] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    available: bool = True
    available_from: datetime | None = None
    expires_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def live(self, now: datetime) -> bool:
        return (
            self.available
            and (self.available_from is None or self.available_from <= now)
            and (self.expires_at is None or now < self.expires_at)
        )


def json_eq(a: Any, b: Any) -> bool:
    """JSON equality as jsonb's: types must agree (true is not 1), numbers by value."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_eq(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_eq(a[key], b[key]) for key in a)
    return type(a) is type(b) and a == b


def _number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _compare(a: Any, op: str, b: Any) -> bool:
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "=": a == b, "!=": a != b}[op]


def matches(node: dict[str, Any], item: Item, now: datetime) -> bool:
    if "and" in node:
        return all(matches(child, item, now) for child in node["and"])
    if "or" in node:
        return any(matches(child, item, now) for child in node["or"])
    if "not" in node:
        return not matches(node["not"], item, now)
    name, op = node["field"], node["op"]
    value = node.get("value", True)
    if name == "categories":
        if op == "contains":
            return value in item.categories
        if op == "in":
            return any(v in item.categories for v in value)
        return bool(item.categories) == value
    if name == "product_id":
        return item.product_id in value if op == "in" else _compare(item.product_id, op, value)
    if name == "available":
        return _compare(item.available, op, value)
    if name in DATES:
        column = getattr(item, name)
        if op == "exists":
            return (column is not None) == value
        target = now + timedelta(days=value["days"]) if isinstance(value, dict) else value
        if column is None:
            return op == "!="
        return _compare(column, op, target)
    return _attribute(item.attributes, name.removeprefix("attributes."), op, value)


def _attribute(attributes: dict[str, Any], key: str, op: str, value: Any) -> bool:
    present = key in attributes
    a = attributes.get(key)
    if op == "exists":
        return present == value
    if op == "!=":
        return not (present and json_eq(a, value))
    if not present:
        return False
    if op == "=":
        return json_eq(a, value)
    if op == "in":
        return any(json_eq(a, v) for v in value)
    if op == "contains":
        return any(json_eq(x, value) for x in a) if isinstance(a, list) else json_eq(a, value)
    if _number(value):
        return _number(a) and _compare(a, op, value)
    if isinstance(a, str):
        # Byte order of UTF-8 is code point order: collate "C".
        return _compare(a.encode(), op, value.encode())
    return False


def weight(rules: dict[str, Any], item: Item, now: datetime) -> float:
    w = 1.0
    for kind in ("boost", "bury"):
        for rule in rules.get(kind, []):
            w *= float(rule["by"]) if matches(rule["if"], item, now) else 1.0
    return w


def pick(order: Sequence[str], items: dict[str, Item], k: int, cap: int | None) -> list[str]:
    """The first k of `order`, no category holding more than `cap` while others remain."""
    chosen: list[str] = []
    counts: Counter[str] = Counter()
    for relaxed in (False, True):
        for pid in order:
            if len(chosen) == k:
                return chosen
            blocked = cap is not None and any(counts[c] >= cap for c in items[pid].categories)
            if pid in chosen or (blocked and not relaxed):
                continue
            chosen.append(pid)
            counts.update(items[pid].categories)
    return chosen


def ranked(
    candidates: Sequence[tuple[str, str]],
    items: dict[str, Item],
    rules: dict[str, Any],
    k: int,
    now: datetime,
    placeable: set[str],
    cap: int | None = None,
) -> list[str]:
    """What recsys.ranked serves, given the strategy's whole ranked list
    (product, reason) and which pins and promoted items may be placed."""
    pins = sorted(
        (p["position"], p["product_id"])
        for p in rules.get("pin", [])
        if p["product_id"] in placeable
    )
    promote = rules.get("promote", {})
    promoted = [p for p in promote.get("items", []) if p in placeable]
    placed = {pid for _, pid in pins} | set(promoted)
    reasons = dict(candidates)
    unplaced = [c for c in candidates if c[0] not in placed]
    if cap is not None:
        unplaced = unplaced[: cap_pool(unplaced, items, rules, k, now)]
    scored = [
        (n / weight(rules, items[pid], now), n, pid)
        for n, (pid, _) in enumerate(unplaced, 1)
        if "filter" not in rules or matches(rules["filter"], items[pid], now)
    ]
    ids = pick([pid for _, _, pid in sorted(scored)], items, k, cap)
    if promoted:
        at = 0
        if promote.get("mode", "lead") == "fill":
            tops = [n for n, pid in enumerate(ids) if reasons[pid].startswith(TOP_UP)]
            at = tops[0] if tops else len(ids)
        ids = ids[:at] + promoted + ids[at:]
    for position, pid in pins:
        ids.insert(min(position - 1, len(ids)), pid)
    return ids[:k]


def cap_pool(
    candidates: Sequence[tuple[str, str]],
    items: dict[str, Item],
    rules: dict[str, Any],
    k: int,
    now: datetime,
) -> int:
    """How many candidates recsys.ranked reads with a category cap: pools of
    4k (or k x the boosts), x4, until one of at least 16k holds k that pass
    the filter, or 1000, or the candidates end (exact picks stop earlier, with
    the same answer)."""
    boost = math.prod(float(r["by"]) for r in rules.get("boost", []))
    pool = math.ceil(min(1000, max(4 * k, k * boost)))
    while True:
        passed = sum(
            1
            for pid, _ in candidates[:pool]
            if "filter" not in rules or matches(rules["filter"], items[pid], now)
        )
        if pool >= len(candidates) or pool >= 1000 or (pool >= 16 * k and passed >= k):
            return pool
        pool = min(1000, pool * 4)


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def mmr(order: Sequence[str], vectors: dict[str, Sequence[float]], k: int, d: float) -> list[str]:
    """Maximal marginal relevance over `order` (best first), relevance being
    the rank's DCG discount scaled to 1 for the first, as recsys.select_diverse."""
    top = math.log(2)
    chosen: list[str] = []
    nearest = dict.fromkeys(order, 0.0)
    while len(chosen) < min(k, len(order)):
        best = max(
            (pid for pid in order if pid not in chosen),
            key=lambda pid: (
                (1 - d) * top / math.log(1 + order.index(pid) + 1) - d * nearest[pid],
                -order.index(pid),
            ),
        )
        chosen.append(best)
        for pid in order:
            if pid not in chosen and best in vectors and pid in vectors:
                nearest[pid] = max(nearest[pid], cosine(vectors[pid], vectors[best]))
    return chosen
