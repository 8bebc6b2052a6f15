"""python -m benchmarks.diversity end to end on tiny MovieLens- and
Online-Retail-shaped sets: every strategy and diversity level scores the same
sampled users on both data sets, the table and the chart are written. What
diversity costs in accuracy is measured, never asserted."""

import json

import pytest

from benchmarks import diversity
from tests.support import synthetic

LEVELS = ["d=0", "d=0.25", "d=0.5", "d=0.75"]


@pytest.fixture
def report(server_url, monkeypatch, tmp_path):
    monkeypatch.setenv("REC_DATABASE_URL", server_url)
    synthetic.write(tmp_path)
    retail = synthetic.write_retail(tmp_path / "online_retail.csv.gz")
    out, chart = tmp_path / "diversity.json", tmp_path / "chart" / "diversity.png"
    args = ["--data", tmp_path, "--retail", retail, "--retail-cutoff", "2011-08-01"]
    args += ["--users", "8", "--chart", chart, "--json", out]
    diversity.main([str(a) for a in args])
    return json.loads(out.read_text()), chart


def test_both_data_sets_every_strategy_and_level(report):
    payload, chart = report
    datasets = payload["datasets"]
    assert set(datasets) == {"movielens", "retail"}
    for name, result in datasets.items():
        assert result["data"]["users_scored"] == 8
        assert result["data"]["embedded_items"] > 0
        assert list(result["strategies"]) == list(diversity.DEFAULT_STRATEGIES)
        for settings in result["strategies"].values():
            assert list(settings) == LEVELS
            assert settings["d=0"]["ndcg_change"] == 0 and settings["d=0"]["p_value"] == 1
            for figures in settings.values():
                assert figures["users"] == 8
                assert 0 <= figures["ndcg"] <= 1 and 0 <= figures["p_value"] <= 1
                assert 0 <= figures["ild"] <= 2
                assert 0 < figures["mean_length"] <= 10
                assert (figures["categories_per_list"] is None) == (name == "retail")
    lines = payload["table"].splitlines()
    assert len(lines) == 2 + 2 * len(diversity.DEFAULT_STRATEGIES) * len(LEVELS)
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_retail_items_take_their_most_frequent_description(tmp_path):
    path = synthetic.write_retail(tmp_path / "online_retail.csv.gz")
    items = {item["product_id"]: item for item in diversity.retail_items(path)}
    assert items["S1"]["title"] == "Item 1" and items["S1"]["attributes"] == {"price": 1.25}


def test_bad_levels_are_refused(capsys):
    with pytest.raises(SystemExit):
        diversity.main(["--levels", "0,1.5"])
    assert "between 0 and 1" in capsys.readouterr().err
