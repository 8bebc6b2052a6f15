"""The requests of each phase, built before the clock starts.

Users are drawn by activity and items by popularity, as traffic would be: the
heavy users (long histories, the slowest lists) ask most often.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import orjson

from app import recommenders
from benchmarks.client import Request, post_events
from benchmarks.workload import TYPE_SHARES, TYPES, Workload

K = 10
URLS = 20_000  # distinct requests per phase, then they repeat


@dataclass(frozen=True)
class Case:
    """A read phase: its name and how a user or item index becomes a path."""

    name: str
    by: str  # "user" or "item"
    path: Callable[[str], str]


def _list(case: str, method: str | None) -> Callable[[str], str]:
    extra = "" if method is None else f"&method={method}"
    return lambda u: f"/recommend?case={case}{extra}&k={K}&user_id={u}"


# A phase per list a user can ask for (app.recommenders.VARIANTS: every strategy,
# the hybrid once per method), then the item-driven reads.
CASES = (
    *(
        Case(name if method is None else f"{case}_{method}", "user", _list(case, method))
        for name, (case, method) in recommenders.VARIANTS.items()
    ),
    Case(
        "content_based_item",
        "item",
        lambda i: f"/recommend?case=content_based&k={K}&product_id={i}",
    ),
    Case("similar", "item", lambda i: f"/items/{i}/similar?k={K}"),
    Case("similar_content", "item", lambda i: f"/items/{i}/similar?k={K}&by=content"),
)
READS = tuple(c.name for c in CASES)


def case(name: str) -> Case:
    return next(c for c in CASES if c.name == name)


class Picker:
    """Random users (by activity) and items (by popularity) of a workload."""

    def __init__(self, workload: Workload, seed: int) -> None:
        self.w = workload
        self.rng = np.random.default_rng(seed)
        active = workload.active_users()
        weights = workload.user_weights[active]
        self.users, self.user_p = active, weights / weights.sum()

    def user_ids(self, n: int) -> list[str]:
        picked = self.rng.choice(self.users, n, p=self.user_p)
        return [self.w.user_id(int(u)) for u in picked]

    def item_ids(self, n: int) -> list[str]:
        picked = self.rng.choice(len(self.w.item_weights), n, p=self.w.item_weights)
        return [self.w.item_id(int(i)) for i in picked]

    def types(self, n: int) -> list[str]:
        return [TYPES[int(t)] for t in self.rng.choice(len(TYPES), n, p=TYPE_SHARES)]

    def events(self, n: int, users: list[str] | None = None) -> list[dict[str, str]]:
        """New events of existing users (timestamp: now, set by the server)."""
        who = users or self.user_ids(n)
        return [
            {"user_id": u, "product_id": i, "event_type": t}
            for u, i, t in zip(who, self.item_ids(len(who)), self.types(len(who)), strict=True)
        ]


def health() -> list[Request]:
    return [Request("GET", "/health")]


def reads(case: Case, picker: Picker, n: int = URLS) -> list[Request]:
    ids = picker.user_ids(n) if case.by == "user" else picker.item_ids(n)
    return [Request("GET", case.path(key)) for key in ids]


def single_events(picker: Picker, n: int = URLS) -> list[Request]:
    return [
        Request("POST", "/event", orjson.dumps(e), ok=(201, 200), events=1)
        for e in picker.events(n)
    ]


def batches(picker: Picker, size: int, n: int) -> list[Request]:
    return [post_events(picker.events(size)) for _ in range(n)]


def mixed(picker: Picker, n: int = URLS) -> list[Request]:
    """The soak mix: every read case and POST /event in equal turns, shuffled."""
    per = max(1, n // (len(CASES) + 1))
    requests = [r for case in CASES for r in reads(case, picker, per)]
    requests += single_events(picker, per)
    order = picker.rng.permutation(len(requests))
    return [requests[int(i)] for i in order]
