"""What training chooses and the SQL then serves: the popularity half-life
picked on validation, recomputed exactly, and followed by case=popular."""

from __future__ import annotations

from typing import Any

import psycopg

from app.training import runner
from tests.support.events import Event, at, ingest


def old_hits_and_new_favourites() -> list[Event]:
    """'old' was chosen by 30 users a year ago, 'new' and its kind by 8 users
    a year later."""
    events: list[Event] = []
    for u in range(30):
        events.append((f"o{u}", "old", "view", None, at(u)))
        events.append((f"o{u}", f"filler{u % 5}", "view", None, at(u + 0.5)))
    for u in range(8):
        base = 24 * 365 + u
        events.append((f"n{u}", "new", "view", None, at(base)))
        events.append((f"n{u}", f"filler{u % 5}", "view", None, at(base + 0.2)))
        events.append((f"n{u}", "new2", "view", None, at(base + 0.3)))
        events.append((f"n{u}", "new3", "view", None, at(base + 0.4)))
        events.append((f"n{u}", "old", "view", None, at(base + 0.5)))
    return events


def popularity(conn: psycopg.Connection[Any]) -> dict[str, float]:
    rows = conn.execute(
        "select i.external_id, s.log_popularity from recsys.item_stats s"
        " join recsys.items i on i.id = s.item_id"
    ).fetchall()
    conn.rollback()
    return dict(rows)


def test_set_popularity_half_life_recomputes_what_the_trigger_built(conn):
    ingest(conn, old_hits_and_new_favourites())
    conn.commit()
    before = popularity(conn)
    conn.execute("select recsys.set_popularity_half_life('3650 days')")
    conn.commit()
    longer = popularity(conn)
    assert longer != before
    conn.execute("select recsys.set_popularity_half_life('14 days')")
    conn.commit()
    after = popularity(conn)
    assert after.keys() == before.keys()
    assert all(abs(after[k] - before[k]) < 1e-6 for k in before)


def test_the_hybrid_chooses_the_half_life_and_popular_follows_it(conn, db_url):
    ingest(conn, old_hits_and_new_favourites())
    conn.commit()
    [*_, run] = runner.train(db_url, ["implicit", "hybrid"], runner.Options(progress=False))
    chosen = run.metrics["buckets"]["popularity"]
    grid = chosen["grid"]
    assert set(grid) == {"1", "7", "14", "30", "90", "365", "3650"}
    assert grid[f"{chosen['half_life_days']:g}"] == max(grid.values())
    days = conn.execute(
        "select extract(epoch from popularity_half_life) / 86400 from recsys.settings"
    ).fetchone()[0]
    conn.rollback()
    assert float(days) == chosen["half_life_days"]
    params = conn.execute(
        "select params from recsys.model_runs where id = %s", (run.run_id,)
    ).fetchone()[0]
    conn.rollback()
    assert params["half_life_days"] == chosen["half_life_days"]
