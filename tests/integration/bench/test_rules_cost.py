"""python -m benchmarks.rules_cost end to end on a tiny MovieLens-shaped set:
every case in every variant is timed for the same users, ratios are taken to
plain, and the profile sees the code each variant runs. Latency is measured,
never asserted."""

import json

import psycopg
import pytest

from benchmarks import rules_cost
from tests.support import synthetic


def test_every_case_and_variant_in_one_run(server_url, monkeypatch, tmp_path):
    monkeypatch.setenv("REC_DATABASE_URL", server_url)
    synthetic.write(tmp_path)
    out = tmp_path / "rules.json"
    args = ["--data", str(tmp_path), "--samples", "2", "--profile", "2", "--json", str(out)]
    rules_cost.main([*args, "--plan-cache-mode", "force_custom_plan"])
    report = json.loads(out.read_text())
    assert report["args"]["plan_cache_mode"] == "force_custom_plan"
    assert list(report["us"]) == list(rules_cost.CASES)
    for by_variant in report["us"].values():
        assert list(by_variant) == list(rules_cost.VARIANTS)
        assert {figures["n"] for figures in by_variant.values()} == {2}
        assert by_variant["plain"]["ratio_mean"] == by_variant["plain"]["ratio_p50"] == 1
        for figures in by_variant.values():
            assert figures["p99"] >= figures["p50"] > 0
            assert figures["ratio_mean"] > 0 and 0 <= figures["short_lists"] <= 2
    for by_variant in report["profile"].values():
        assert "compile_rules" not in by_variant["plain"]  # the fast path: no rules compiled
        assert by_variant["filter"]["compile_rules"]["calls_per_list"] == 1
        assert by_variant["diversity 0.5"]["select_diverse"]["calls_per_list"] >= 1
        assert by_variant["all"]["compile_condition"]["calls_per_list"] >= 4
    with psycopg.connect(server_url) as conn:
        left = conn.execute(
            "select count(*) from pg_database where datname = %s", [rules_cost.DB]
        ).fetchone()
    assert left == (0,)  # the benchmark's database is dropped


def test_year_attribute_from_the_release_date():
    assert rules_cost.year_of({"release_date": "01-Jan-1995"}) == 1995
    assert rules_cost.year_of({}) is None


def test_unknown_case_is_refused(capsys):
    with pytest.raises(SystemExit):
        rules_cost.main(["--cases", "nope"])
    assert "choose from popular" in capsys.readouterr().err
