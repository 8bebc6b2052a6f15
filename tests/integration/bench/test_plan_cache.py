"""python -m benchmarks.plan_cache end to end on a tiny shop: both plan modes
measured in every round (SQL, serve, HTTP), no errors, and the benchmark's
database dropped. Speed is measured, never asserted."""

import json

import psycopg

from benchmarks import plan_cache


def test_both_modes_in_every_round(server_url, monkeypatch, tmp_path):
    monkeypatch.setenv("REC_DATABASE_URL", server_url)
    out = tmp_path / "plans.json"
    args = ["--users", "300", "--items", "60", "--events", "3000", "--rounds", "1"]
    plan_cache.main([*args, "--seconds", "0.5", "--warmup", "0.2", "--json", str(out)])
    rounds = json.loads(out.read_text())["result"]["rounds"]
    assert [r["mode"] for r in rounds] == list(plan_cache.MODES)
    for r in rounds:
        assert r["sql_ms"] > 0 and r["serve_per_s"] > 0 and r["http_per_s"] > 0
        assert r["http_errors"] == 0
    with psycopg.connect(server_url) as conn:
        left = conn.execute(
            "select count(*) from pg_database where datname = %s", [plan_cache.DB]
        ).fetchone()
    assert left == (0,)
