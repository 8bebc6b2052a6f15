"""A content run's tables: its encoder row, then every item's embedding and the
HNSW index, in the caller's transaction (activated with it)."""

from __future__ import annotations

from typing import Any

import numpy as np
from psycopg.types.json import Jsonb

from app.db import queries
from app.training import encoders
from app.training.content import ItemText
from app.training.encoders import Encoder, item_text, vector_text
from app.training.store import Conn

CHUNK = 5_000


def read_items(conn: Conn) -> tuple[list[int], list[ItemText]]:
    """Every item's id and text, locked against concurrent edits until commit."""
    rows = conn.execute(queries.get("training_items")).fetchall()
    return [int(r[0]) for r in rows], [item_text(r) for r in rows]


def write_encoder(conn: Conn, run_id: int, encoder: Any) -> None:
    components = getattr(encoder, "components", np.zeros((0, 0)))
    conn.execute(
        queries.get("insert_content_encoder"),
        {
            "run_id": run_id,
            "config": Jsonb(encoder.config()),
            "terms": list(getattr(encoder, "terms", [])),
            "idf": [float(v) for v in getattr(encoder, "idf", [])],
            "components": real_array(components) if components.size else [],
        },
    )


def real_array(matrix: np.ndarray) -> str:
    """A 2-D float32 array as a Postgres array literal: psycopg's dump of the
    nested list was most of a 20k-item content run (64 x 24 000 components).
    Nine significant digits give every float32 back exactly."""
    rows = (",".join(np.char.mod("%.9g", row)) for row in np.asarray(matrix, dtype=np.float32))
    return "{" + ",".join("{" + row + "}" for row in rows) + "}"


def write(conn: Conn, run_id: int, encoder: Encoder) -> dict[str, Any]:
    """Embed every item with `encoder` (items without text get none), re-index."""
    write_encoder(conn, run_id, encoder)
    ids, texts = read_items(conn)
    dims = int(encoder.config()["dims"])
    row = conn.execute(queries.get("embedding_index_exists"), {"dims": dims}).fetchone()
    if not (row and row[0]):
        # A new length: the old index (vector(n) of the old n) must go first. Dropping
        # an index locks items against reads until commit; same-length runs keep it.
        conn.execute(queries.get("index_item_embeddings"), {"dims": None})
    conn.execute(queries.get("create_embedding_staging"))
    embedded = 0
    with conn.cursor().copy(queries.get("copy_embedding_staging")) as copy:
        for start in range(0, len(ids), CHUNK):
            vectors = encoder.transform(texts[start : start + CHUNK])
            for item_id, vector in zip(ids[start : start + CHUNK], vectors, strict=True):
                text = vector_text(vector)
                if text is not None:
                    copy.write_row((item_id, text))
                    embedded += 1
    conn.execute(queries.get("apply_staged_embeddings"))
    conn.execute(queries.get("index_item_embeddings"), {"dims": dims})
    features = len(getattr(encoder, "terms", []))
    return {"items": len(ids), "embedded": embedded, "dims": dims, "features": features}


def embed(conn: Conn, product_ids: list[str]) -> int:
    """Embed these items with the active content run's encoder (the synchronous
    twin of app.training.live_embeddings.embed_items, for imports); a no-op before any run."""
    stored = conn.execute(queries.get("active_content_encoder")).fetchone()
    if stored is None or not product_ids:
        return 0
    run_id, encoder = int(stored[0]), encoders.build(*stored[1:])
    rows = conn.execute(queries.get("item_texts"), {"product_ids": product_ids}).fetchall()
    embedded = 0
    for start in range(0, len(rows), CHUNK):
        part = rows[start : start + CHUNK]
        texts = [vector_text(v) for v in encoder.transform([item_text(r) for r in part])]
        params = {"ids": [r[0] for r in part], "embeddings": texts, "run_id": run_id}
        conn.execute(queries.get("set_embeddings"), params)
        embedded += sum(t is not None for t in texts)
    return embedded
