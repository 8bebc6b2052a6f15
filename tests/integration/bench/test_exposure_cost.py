"""python -m benchmarks.exposure_cost end to end on a tiny MovieLens-shaped set:
both servers answer, the ledger logs lists only when on, and every figure is
reported. Throughput and latency are measured, never asserted."""

import json

import psycopg

from benchmarks import exposure_cost
from tests.support import synthetic


def test_ledger_on_and_off_in_one_run(server_url, monkeypatch, tmp_path):
    monkeypatch.setenv("REC_DATABASE_URL", server_url)
    synthetic.write(tmp_path)
    out = tmp_path / "cost.json"
    fast = ["--rounds", "1", "--seconds", "0.3", "--warmup", "0.1", "--concurrency", "2"]
    exposure_cost.main(["--data", str(tmp_path), *fast, "--samples", "5", "--json", str(out)])
    report = json.loads(out.read_text())
    assert set(report["http"]) == set(report["sql"]) == {"behavior_based", "popular"}
    for figures in report["http"].values():
        assert [r["mode"] for r in figures["rounds"]] == ["on", "off"]
        assert figures["on"]["requests"] > 0 and figures["off"]["requests"] > 0
        assert figures["on"]["logged"] >= figures["on"]["requests"]  # one row per list
        assert figures["off"]["logged"] == 0
        assert figures["ratio"] > 0
    for costs in report["sql"].values():
        assert {s["n"] for s in costs["us"].values()} == {5}
        assert set(costs["us"]) == set(exposure_cost.STATEMENTS)
        assert costs["ratio_p50"] > 0
    with psycopg.connect(server_url) as conn:
        left = conn.execute(
            "select count(*) from pg_database where datname = %s", [exposure_cost.DB]
        ).fetchone()
    assert left == (0,)  # the benchmark's database is dropped


def test_rounds_alternate_abba():
    assert exposure_cost.order(3) == ["on", "off", "off", "on", "on", "off"]
