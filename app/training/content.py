"""Item text -> TF-IDF (words, character n-grams, tags) -> TruncatedSVD -> unit vectors.

The fitted encoder is plain arrays (terms, idf, SVD components) kept in
`recsys.content_encoders`, so the service embeds a new or changed item with the
same arithmetic as training, without pickles and without retraining. Training
and serving both call `TfidfEncoder.transform`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np
from scipy import sparse
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import CountVectorizer


@dataclass(frozen=True)
class ItemText:
    """The text of one item, as stored in recsys.items."""

    title: str | None = None
    description: str | None = None
    categories: Sequence[str] = ()
    attributes: dict[str, Any] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return not (self.words() or self.tags())

    def words(self) -> str:
        values = [v for v in self.attributes.values() if isinstance(v, str) and not _link(v)]
        return " ".join(p for p in (self.title, self.description, *values) if p)

    def prose(self) -> str:
        return " ".join(p for p in (self.title, self.description) if p)

    def tags(self) -> list[str]:
        """Categories and scalar attributes as whole tokens: `comedy`, `color=red`."""
        scalars = [
            f"{k}={v}".lower()
            for k, v in sorted(self.attributes.items())
            if isinstance(v, str | int | float | bool) and not _link(v)
        ]
        return [c.lower() for c in self.categories] + scalars


def _tags(tokens: list[str]) -> list[str]:
    return tokens


def _link(value: object) -> bool:
    # URLs are identifiers, not descriptions: their tokens would only add noise.
    return isinstance(value, str) and value.startswith(("http://", "https://"))


# Block name -> (the item's input, vectoriser options). Weights (config) scale
# each block after its own L2 normalisation; tags weigh most, so items of the
# same category sit close (measured on ml-100k: docs/content_hybrid.md).
# min_df 2: a term of a single item makes no two items similar, it only dilutes
# the rest of the row (ids, dates, URLs in attributes).
BLOCKS: dict[str, tuple[Callable[[ItemText], Any], dict[str, Any]]] = {
    "w": (
        ItemText.words,
        {"analyzer": "word", "stop_words": "english", "ngram_range": (1, 1), "min_df": 2},
    ),
    "c": (
        ItemText.prose,
        {"analyzer": "char_wb", "ngram_range": (3, 5), "max_features": 20_000, "min_df": 2},
    ),
    "t": (ItemText.tags, {"analyzer": _tags, "min_df": 2}),
}
DEFAULT_WEIGHTS = {"w": 1.0, "c": 0.5, "t": 1.5}
DEFAULT_DIMS = 64


def _counter(block: str, vocabulary: dict[str, int] | None = None) -> CountVectorizer:
    options = dict(BLOCKS[block][1])
    if vocabulary is not None:
        options.pop("max_features", None)
        options.pop("min_df", None)
    return CountVectorizer(lowercase=True, vocabulary=vocabulary, **options)


@dataclass
class TfidfEncoder:
    """Fit returns self (surprise's convention); `transform` gives unit rows,
    all zeros for an item with no known term."""

    dims: int = DEFAULT_DIMS
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    random_state: int = 0
    terms: list[str] = field(default_factory=list)
    idf: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    components: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    # The embeddings of the items fit saw, by their text (never stored).
    fitted: dict[tuple[Any, ...], np.ndarray] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def fit(self, items: Sequence[ItemText]) -> Self:
        texts = [item for item in items if not item.is_empty()]
        if len(texts) < 2:
            raise ValueError("content: fewer than 2 items have text to learn from")
        # One count per block: the fit's counts are its features' too (TfidfVectorizer's
        # smooth idf from them), not recounted on the vocabulary just learned.
        terms, idf, counted = [], [], []
        for block, (field_of, options) in BLOCKS.items():
            counter = CountVectorizer(lowercase=True, **options)
            try:
                counts = counter.fit_transform([field_of(item) for item in texts]).tocsr()
            except ValueError:  # no term at all in this block (e.g. no categories)
                continue
            df = np.bincount(counts.indices, minlength=counts.shape[1])
            block_idf = (np.log((1 + len(texts)) / (1 + df)) + 1).astype(np.float32)
            terms += [f"{block}:{t}" for t in counter.get_feature_names_out()]
            idf += list(block_idf)
            counted.append(self.weighted(block, counts, block_idf))
        if not terms:
            raise ValueError("content: no term is shared by two items")
        self.terms, self.idf = terms, np.asarray(idf, dtype=np.float32)
        features = sparse.hstack(counted).tocsr()
        n = max(1, min(self.dims, features.shape[0] - 1, features.shape[1] - 1))
        svd = TruncatedSVD(n_components=n, random_state=self.random_state).fit(features)
        self.components = svd.components_.astype(np.float32)
        # Writing the run embeds these same items next: their rows are kept, not
        # recounted (on 20k items the counting is most of the write).
        vectors = self.project(features)
        self.fitted = {_key(item): row for item, row in zip(texts, vectors, strict=True)}
        return self

    def features(self, items: Sequence[ItemText]) -> sparse.csr_matrix:
        """Weighted, per-block L2-normalised TF-IDF rows on the stored vocabulary."""
        blocks = []
        for block, (field_of, _) in BLOCKS.items():
            columns = [i for i, t in enumerate(self.terms) if t.startswith(f"{block}:")]
            if not columns:
                continue
            vocabulary = {self.terms[c][2:]: n for n, c in enumerate(columns)}
            counts = _counter(block, vocabulary).transform([field_of(item) for item in items])
            blocks.append(self.weighted(block, counts, self.idf[columns]))
        return sparse.hstack(blocks).tocsr()

    def weighted(self, block: str, counts: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
        """A block's term counts -> sublinear tf x idf, L2-normalised, times its weight."""
        tf = counts.astype(np.float64).tocsr()
        tf.data = 1 + np.log(tf.data)  # sublinear tf, as TfidfVectorizer
        tf = tf @ sparse.diags(idf.astype(np.float64))
        weighted: sparse.csr_matrix = unit_rows(tf) * self.weights.get(block, 1.0)
        return weighted

    def transform(self, items: Sequence[ItemText]) -> np.ndarray:
        keys = [_key(item) for item in items]
        missing = [n for n, key in enumerate(keys) if key not in self.fitted]
        out = np.zeros((len(items), self.components.shape[0]))
        if missing:
            out[missing] = self.project(self.features([items[n] for n in missing]))
        for n, key in enumerate(keys):
            if key in self.fitted:
                out[n] = self.fitted[key]
        return out

    def project(self, features: sparse.csr_matrix) -> np.ndarray:
        return unit_dense(np.asarray(features @ self.components.T.astype(np.float64)))

    def config(self) -> dict[str, Any]:
        return {
            "encoder": "tfidf",
            "dims": int(self.components.shape[0]),
            "weights": self.weights,
            "blocks": {b: _describe(o) for b, (_, o) in BLOCKS.items()},
            "random_state": self.random_state,
        }

    @classmethod
    def stored(
        cls, config: dict[str, Any], terms: list[str], idf: Sequence[float], components: Any
    ) -> TfidfEncoder:
        """The encoder of a run, from its recsys.content_encoders row."""
        return cls(
            dims=int(config["dims"]),
            weights=dict(config["weights"]),
            terms=list(terms),
            idf=np.asarray(idf, dtype=np.float32),
            components=np.asarray(components, dtype=np.float32).reshape(len(components), -1),
        )


def _key(item: ItemText) -> tuple[Any, ...]:
    """An item's text as a dict key (ItemText holds a list and a dict)."""
    attributes = json.dumps(item.attributes, sort_keys=True, default=str)
    return (item.title, item.description, tuple(item.categories), attributes)


def _describe(options: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if not callable(v) else "tags") for k, v in options.items()}


def unit_rows(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1))).ravel()
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    result: sparse.csr_matrix = sparse.diags(scale) @ matrix
    return result


def unit_dense(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    out: np.ndarray = np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 1e-9)
    return out
