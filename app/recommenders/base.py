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


@dataclass(frozen=True)
class Recommendation:
    product_id: str
    score: float
    reason: str
