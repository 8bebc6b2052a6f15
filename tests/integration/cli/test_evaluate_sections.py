"""The optional sections of `recsys evaluate`: behavior_based by similarity
measure and by neighbour-list size, content neighbours by category, and
several explicit models on the held-out ratings."""

import json

import pytest
from click.testing import CliRunner

from app.cli import main
from tests.support import synthetic

SECTIONS = [
    "--strategies",
    "behavior_based",
    "--similarity",
    "cosine,llr",
    "--neighbor-lists",
    "1,50",
    "--content-queries",
    "12",
    "--rating-models",
    "svdpp,knnbaseline",
]


@pytest.fixture
def evaluate(db_url, monkeypatch, tmp_path):
    monkeypatch.setenv("REC_DATABASE_URL", db_url)
    data, items = synthetic.write(tmp_path)

    def invoke(*args):
        files = ["--events", data, "--items", items, "--preset", "movielens-100k"]
        argv = ["evaluate", "--no-progress", *files, *args]
        return CliRunner().invoke(main, [str(a) for a in argv])

    return invoke


def test_every_section_is_scored_and_reported(evaluate, tmp_path):
    out = tmp_path / "out"
    result = evaluate(*SECTIONS, "--out", out)
    assert result.exit_code == 0, result.output
    figures = json.loads((out / "metrics.json").read_text())
    main_table = figures["strategies"]["behavior_based"]

    assert list(figures["similarity"]) == ["cosine", "llr"]
    # Cosine is the default measure and the main table is scored live: the same lists.
    assert figures["similarity"]["cosine"]["ndcg"] == main_table["ndcg"]
    assert all(row["users"] == main_table["users"] for row in figures["similarity"].values())

    lists = figures["neighbor_lists"]
    assert list(lists) == ["live", "lists of 1", "lists of 50"]
    assert lists["live"]["ndcg"] == main_table["ndcg"]
    # One neighbour per item leaves few candidates: popular items fill the lists.
    assert lists["lists of 1"]["ndcg"] != lists["live"]["ndcg"]
    assert all(lists[name]["rebuild_s"] > 0 for name in ("lists of 1", "lists of 50"))

    content = figures["content_categories"]
    assert content["queries"] == 12 and content["mean_list_length"] == 10
    # Every synthetic film has one of four genres, which the content model encodes.
    assert content["share_sharing_a_category"] > content["chance_share"]

    rating = figures["rating"]
    assert list(rating) == ["svd", "svdpp", "knnbaseline"]
    assert [m["served"] for m in rating.values()] == [True, True, False]
    assert all(0 < m["rmse"] < m["rmse_global_mean"] + 1 for m in rating.values())

    report = (out / "report.md").read_text()
    for heading in (
        "## behavior_based by similarity measure",
        "## behavior_based: live vs neighbour lists",
        "## Content neighbours by category",
    ):
        assert heading in report
    assert "--similarity cosine,llr --neighbor-lists 1,50" in report  # the command


def test_without_options_no_section_is_run(evaluate, tmp_path):
    result = evaluate("--strategies", "popular", "--out", tmp_path / "plain")
    assert result.exit_code == 0, result.output
    figures = json.loads((tmp_path / "plain" / "metrics.json").read_text())
    assert not {"similarity", "neighbor_lists", "content_categories"} & set(figures)
    assert list(figures["rating"]) == ["svd"]


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--similarity", "cosine,magic"], "--similarity: unknown magic"),
        (["--neighbor-lists", "10,many"], "--neighbor-lists takes whole numbers"),
        (["--neighbor-lists", "0"], "--neighbor-lists sizes must be at least 1"),
        (["--rating-models", "ease"], "--rating-models: unknown ease"),
        (["--content-queries", "-1"], "--content-queries must be at least 0"),
    ],
)
def test_bad_section_options_fail_with_one_line(evaluate, args, problem):
    result = evaluate(*args)
    assert result.exit_code == 1
    assert problem in result.output and len(result.output.strip().splitlines()) == 1
