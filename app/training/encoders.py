"""A content run's encoder rebuilt from its recsys.content_encoders row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from app.training.content import ItemText, TfidfEncoder


class Encoder(Protocol):
    def transform(self, items: Sequence[ItemText]) -> np.ndarray: ...

    def config(self) -> dict[str, Any]: ...


def build(config: dict[str, Any], terms: list[str], idf: Any, components: Any) -> Encoder:
    if config.get("encoder") == "semantic":
        from app.training.semantic import SemanticEncoder

        return SemanticEncoder(model=config["model"], dims=int(config["dims"]))
    return TfidfEncoder.stored(config, terms, idf, components)


def item_text(row: Any) -> ItemText:
    """ItemText from a (id, title, description, categories, attributes) row."""
    _, title, description, categories, attributes = row
    return ItemText(title, description, tuple(categories or ()), dict(attributes or {}))


def vector_text(vector: np.ndarray) -> str | None:
    """pgvector's text form, or None (no embedding) for an all-zero row."""
    if not np.any(vector):
        return None
    return "[" + ",".join(f"{v:.7g}" for v in vector) + "]"
