"""python -m benchmarks.negative_feedback end to end on tiny MovieLens- and
Online-Retail-shaped sets: both conditions score every test user, no list
holds an item its user rejected in training, and only users with rejections
see their lists change. What the demotion is worth is measured, never asserted."""

import json

import pytest

from benchmarks import negative_feedback
from tests.support import synthetic


@pytest.fixture
def report(server_url, monkeypatch, tmp_path):
    monkeypatch.setenv("REC_DATABASE_URL", server_url)
    synthetic.write(tmp_path)
    retail = synthetic.write_retail(tmp_path / "online_retail.csv.gz")
    out = tmp_path / "feedback.json"
    args = ["--data", tmp_path, "--retail", retail, "--retail-cutoff", "2011-08-01"]
    args += ["--also-weights", "0.5"]
    negative_feedback.main([str(a) for a in [*args, "--json", out]])
    return json.loads(out.read_text())


def test_both_data_sets_and_strategies(report):
    datasets = report["datasets"]
    assert set(datasets) == {"movielens", "retail"}
    assert datasets["retail"]["data"]["cutoff"] == "2011-08-01"
    for result in datasets.values():
        assert result["data"]["test_users"] > 0
        assert result["data"]["training_events"]["dislike"] > 0
        assert result["state"]["same"]  # only the weight moved between conditions
        assert result["rejections_stored"] == result["rejections_in_training"]
        assert set(result["strategies"]) == {"behavior_based", "collaborative"}
        for figures in result["strategies"].values():
            assert figures["rejected_items_listed"] == {"on": 0, "off": 0, "weight 0.5": 0}
            assert set(figures["other_weights"]) == {"weight 0.5"}
            assert figures["lists"] == result["data"]["test_users"]
            assert figures["lists_changed_without_rejections"] == 0
            for measure in ("precision", "recall", "ndcg", "with_bad", "bad"):
                assert 0 <= figures[measure]["p_value"] <= 1
                assert figures[measure]["users_changed"] <= figures[measure]["users"]


def test_movielens_split_holds_out_each_users_latest_ratings(report):
    data = report["datasets"]["movielens"]["data"]
    assert data["training_events"]["rating"] + data["training_events"]["dislike"] == 30 * 12
    assert data["held_out_relevant"] > 0 and data["held_out_bad"] > 0


def test_unknown_strategy_is_refused(capsys):
    with pytest.raises(SystemExit):
        negative_feedback.main(["--strategies", "nope"])
    assert "choose from behavior_based, collaborative" in capsys.readouterr().err
