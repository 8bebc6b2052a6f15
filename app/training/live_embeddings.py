"""Embeds new or changed items at once with the active content run's encoder.

The encoder (arrays in recsys.content_encoders) is loaded once per run and
process; without an active content run items stay without embeddings until
`recsys train --model content`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from app.db import queries
from app.db.pool import Connection

if TYPE_CHECKING:
    from app.training.encoders import Encoder

_loaded: dict[int, Encoder] = {}


async def active_encoder(conn: Connection) -> tuple[int, Encoder] | None:
    cur = await conn.execute(queries.get("active_content_run"))
    row = await cur.fetchone()
    if row is None:
        return None
    run_id = int(row["run_id"])
    if run_id not in _loaded:
        # scikit-learn is imported on the first upsert after a content run, not at start-up.
        from app.training import encoders

        cur = await conn.execute(queries.get("active_content_encoder"))
        stored = await cur.fetchone()
        if stored is None or int(stored["run_id"]) != run_id:
            return None
        _loaded.clear()  # one run at a time: the previous encoder is not needed again
        _loaded[run_id] = encoders.build(
            stored["config"], stored["terms"], stored["idf"], stored["components"]
        )
    return run_id, _loaded[run_id]


async def embed_items(conn: Connection, product_ids: Sequence[str]) -> int:
    """Write the embeddings of these items (none for an item without text);
    returns how many got one. A no-op before any content run."""
    found = await active_encoder(conn)
    if found is None or not product_ids:
        return 0
    run_id, encoder = found
    from app.training import encoders

    cur = await conn.execute(queries.get("item_texts"), {"product_ids": list(product_ids)})
    rows: list[Any] = [tuple(r.values()) for r in await cur.fetchall()]
    # CPU work off the event loop: a batch of 10 000 items takes a moment.
    vectors = await asyncio.to_thread(encoder.transform, [encoders.item_text(r) for r in rows])
    texts = [encoders.vector_text(v) for v in vectors]
    params = {"ids": [r[0] for r in rows], "embeddings": texts, "run_id": run_id}
    await conn.execute(queries.get("set_embeddings"), params)
    return sum(t is not None for t in texts)
