"""python -m benchmarks.pair_log end to end on a tiny shop: the appending
trigger is built from the installed one, every arm ends with the same
item_pairs, the log arms fold what they appended, and the benchmark's
databases are dropped. Speed is measured, never asserted."""

import json

import psycopg

from benchmarks import pair_log


def test_every_arm_ends_with_the_same_pairs(server_url, monkeypatch, tmp_path):
    monkeypatch.setenv("REC_DATABASE_URL", server_url)
    out = tmp_path / "pair_log.json"
    args = ["--users", "300", "--items", "80", "--events", "4000", "--batch", "100"]
    pair_log.main([*args, "--batches", "5", "--every", "2,5", "--json", str(out)])
    arms = json.loads(out.read_text())["result"]
    assert [a["every"] for a in arms] == [0, 2, 5]
    assert len({tuple(a["digest"]) for a in arms}) == 1 and arms[0]["digest"][0] > 0
    assert arms[0]["fold_s"] == 0 and all(a["fold_s"] > 0 for a in arms[1:])
    with psycopg.connect(server_url) as conn:
        left = conn.execute(
            "select count(*) from pg_database where datname like 'bench_pair_log%'"
        ).fetchone()
    assert left == (0,)


def test_the_appending_trigger_replaces_exactly_the_pair_upsert(db_url):
    with psycopg.connect(db_url) as conn:
        appending = pair_log.appending_trigger(conn)
    assert "insert into recsys.item_pair_deltas" in appending
    assert "insert into recsys.item_pairs as p" not in appending
