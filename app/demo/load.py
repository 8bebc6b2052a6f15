"""Write a generated shop into the database through the same SQL the API uses."""

from __future__ import annotations

import psycopg
from psycopg.types.json import Jsonb
from tqdm import tqdm

from app.db import events as db_events
from app.db import queries
from app.demo.shop import Shop

BATCH = 5_000


def load(url: str, shop: Shop) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(queries.get("upsert_items"), {"items": Jsonb(shop.items)})
        for start in tqdm(range(0, len(shop.events), BATCH), desc="demo events", unit="batch"):
            batch = shop.events[start : start + BATCH]
            conn.execute(
                queries.get("ingest_events"),
                db_events.ingest_params(
                    [
                        db_events.NewEvent(
                            e["user_id"], e["product_id"], e["event_type"], timestamp=e["timestamp"]
                        )
                        for e in batch
                    ]
                ),
            )
        conn.commit()
