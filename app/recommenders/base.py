"""What every strategy takes and returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Query:
    """One recommendation request, already validated."""

    user_id: str | None = None
    product_id: str | None = None
    k: int = 10
    exclude: list[str] = field(default_factory=list)
    category: str | None = None
    method: str | None = None  # hybrid: adaptive (default) or switching
    attributes: dict[str, Any] | None = None  # content_based: items whose attributes contain these
    # 0..1: demote items shown to the user recently without an interaction (recsys.rotated).
    rotation: float = 0.0
    # Business rules (docs/rules.md), compiled and applied in recsys.ranked.
    rules: dict[str, Any] | None = None
    # 0..1: maximal marginal relevance over content embeddings (recsys.select_diverse).
    diversity: float = 0.0
    max_per_category: int | None = None
    # Strategies whose own candidates follow when `case` runs short (scenarios).
    fallback: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Recommendation:
    product_id: str
    score: float
    reason: str


@dataclass(frozen=True)
class Exposure:
    """Where a served list goes and what the ledger (recsys.exposures) records with it."""

    surface: str  # recommend, next, realtime, event, push (recsys.exposures.surface)
    log: bool = True  # False: REC_EXPOSURES=false, nothing is recorded
    scenario: str | None = None
    experiment: str | None = None
    arm: str | None = None
    chain: str | None = None  # recomm_id of the chain's first page; None: a first page
    page: int = 1


@dataclass(frozen=True)
class Served:
    """A list as answered: its recomm_id (the ledger's key) and its items."""

    recomm_id: str
    recommendations: list[Recommendation]
