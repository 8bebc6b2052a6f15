"""REC_* tunables reach recsys.settings whenever the service or a writing command
starts, migrated or not (app/db/tunables.py)."""

from __future__ import annotations

import psycopg
from click.testing import CliRunner

from app import create_app
from app.cli import main


def pair_window(conn: psycopg.Connection) -> int:
    row = conn.execute("select pair_window from recsys.settings").fetchone()
    conn.rollback()
    assert row is not None
    return int(row[0])


async def test_the_service_applies_the_pair_window_without_migrating(db_url, conn, tmp_path):
    assert pair_window(conn) == 200
    settings = {"database_url": db_url, "data_dir": tmp_path, "neighbor_refresh": None}
    async with create_app({**settings, "pair_window": 7}).test_app():
        assert pair_window(conn) == 7
    # Unset, the stored value stays.
    async with create_app(settings).test_app():
        assert pair_window(conn) == 7


def test_a_writing_command_applies_the_pair_window(db_url, conn, monkeypatch):
    monkeypatch.setenv("REC_DATABASE_URL", db_url)
    monkeypatch.setenv("REC_PAIR_WINDOW", "3")
    assert CliRunner().invoke(main, ["db", "url"]).exit_code == 0
    assert pair_window(conn) == 200  # printing a URL writes nothing
    result = CliRunner().invoke(main, ["db", "prune", "--older-than-days", "30"])
    assert result.exit_code == 0, result.output
    assert pair_window(conn) == 3
