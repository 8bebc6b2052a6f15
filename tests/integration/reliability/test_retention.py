"""Retention: recsys.prune_events, `recsys db prune` and REC_RETENTION_DAYS in the service."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from click.testing import CliRunner

from app.cli import main
from app.config import Settings
from app.db import queries
from app.jobs import retention
from tests.support.recompute import assert_exact
from tests.support.served import served as serve_app

NOW = datetime.now(UTC)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def seed(conn: psycopg.Connection) -> None:
    """u1 first touched a 100 days ago and again 1 day ago; b, c are recent; u2 is all old."""
    rows = [
        ("u1", "a", "view", None, days_ago(100)),
        ("u1", "b", "purchase", None, days_ago(50)),
        ("u1", "c", "view", None, days_ago(2)),
        ("u1", "a", "rating", 4.0, days_ago(1)),
        ("u2", "a", "view", None, days_ago(90)),
        ("u2", "c", "add_to_cart", None, days_ago(80)),
        ("u3", "b", "view", None, days_ago(3)),
        ("u3", "c", "view", None, days_ago(3)),
    ]
    conn.execute(
        "select recsys.ingest_events(%s, %s, %s, %s::real[], %s::timestamptz[])",
        [list(c) for c in zip(*rows, strict=True)],
    )
    conn.commit()


def test_prune_keeps_the_aggregates_exact(db_url, conn):
    conn.execute("update recsys.settings set pair_window = 1")
    conn.commit()
    seed(conn)
    done = retention.prune(db_url, retention.cutoff(30, NOW), max_users=1)
    assert (done.users, done.events, done.batches) == (2, 4, 2)
    got = assert_exact(conn)
    assert conn.execute("select count(*) from recsys.events").fetchone() == (4,)
    # u1's first touch of a moved from 100 days ago to yesterday: now c is first, a second.
    u1 = conn.execute(
        "select i.external_id, x.seq from recsys.interactions x"
        " join recsys.items i on i.id = x.item_id join recsys.users u on u.id = x.user_id"
        " where u.external_id = 'u1' order by x.seq"
    ).fetchall()
    assert u1 == [("c", 1), ("a", 2)]
    # u2 keeps its row with no items; nothing of it is counted.
    assert conn.execute("select n_items from recsys.users where external_id = 'u2'").fetchone() == (
        0,
    )
    assert len(got["item_pairs"]) == 2  # (a, c) by u1 and (b, c) by u3


def test_a_stopped_prune_ends_after_its_batch_and_stays_exact(db_url, conn):
    seed(conn)
    stop = threading.Event()
    done = retention.prune(
        db_url, retention.cutoff(30, NOW), max_users=1, progress=lambda _: stop.set(), stop=stop
    )
    assert done.batches == 1  # two users have old events: one batch was left for later
    assert_exact(conn)
    assert retention.prune(db_url, retention.cutoff(30, NOW), max_users=1).batches == 1


def test_prune_with_nothing_old_is_a_no_op(db_url, conn):
    seed(conn)
    assert retention.prune(db_url, retention.cutoff(365, NOW)) == retention.Pruned()
    assert conn.execute("select count(*) from recsys.events").fetchone() == (8,)


def test_cutoff_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        retention.cutoff(0)


def test_cli_prune(db_url, conn, monkeypatch):
    monkeypatch.setenv("REC_DATABASE_URL", db_url)
    seed(conn)
    result = CliRunner().invoke(main, ["db", "prune", "--older-than-days", "30"])
    assert result.exit_code == 0, result.output
    assert "pruned 4 events older than" in result.output and "(2 users, 1 batches)" in result.output
    assert_exact(conn)
    bad = CliRunner().invoke(main, ["db", "prune", "--older-than-days", "0"])
    assert bad.exit_code == 2 and "older-than-days" in bad.output


def test_only_one_instance_prunes_at_a_time(db_url, conn):
    seed(conn)
    with psycopg.connect(db_url, autocommit=True) as holder:
        holder.execute(queries.get("try_prune_lock"))
        assert retention.prune_if_free(db_url, 30) is None
        assert conn.execute("select count(*) from recsys.events").fetchone() == (8,)
        conn.rollback()
    assert retention.prune_if_free(db_url, 30) == retention.Pruned(2, 4, 1)


def test_retention_days_from_the_environment():
    assert Settings.from_env({}).retention_days is None
    assert Settings.from_env({"REC_RETENTION_DAYS": "30"}).retention_days == 30
    with pytest.raises(ValueError, match="REC_RETENTION_DAYS"):
        Settings.from_env({"REC_RETENTION_DAYS": "-1"})


async def test_the_service_prunes_on_start_with_retention_days(db_url, conn, tmp_path):
    seed(conn)
    async with serve_app(db_url, tmp_path, retention_days=30):
        for _ in range(200):
            n = conn.execute("select count(*) from recsys.events").fetchone()[0]
            conn.rollback()
            if n == 4:
                break
            await asyncio.sleep(0.05)
    assert n == 4
    assert_exact(conn)
