"""`recsys evaluate` end to end on a tiny data set: every file written, the
numbers reproducible, the scratch database dropped, the live one untouched."""

import json

import psycopg
import pytest
from click.testing import CliRunner

from app import recommenders
from app.cli import main
from tests.support import synthetic

FILES = {"report.md", "metrics.json", "ndcg.png", "ndcg_by_history.png", "popularity.png"}
VARYING = {"timings", "latency_ms", "seconds"}  # wall times differ run to run


@pytest.fixture
def run(db_url, monkeypatch):
    monkeypatch.setenv("REC_DATABASE_URL", db_url)

    def invoke(*args):
        return CliRunner().invoke(main, ["evaluate", "--no-progress", *map(str, args)])

    return invoke


@pytest.fixture
def files(tmp_path):
    return synthetic.write(tmp_path)


def scratch_databases(db_url):
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("select datname from pg_database where datname like 'recsys_eval_%'")
        return [r[0] for r in rows.fetchall()]


def steady(value):
    """`value` without the wall-time figures."""
    if isinstance(value, dict):
        return {k: steady(v) for k, v in value.items() if k not in VARYING}
    if isinstance(value, list):  # the validation grid: one dict per configuration
        return [steady(v) for v in value]
    return value


def test_file_evaluation_writes_every_file_and_is_reproducible(run, files, tmp_path, db_url):
    data, items = files
    args = ["--events", data, "--items", items, "--preset", "movielens-100k"]
    first = run(*args, "--out", tmp_path / "a")
    assert first.exit_code == 0, first.output
    assert {p.name for p in (tmp_path / "a").iterdir()} == FILES
    assert (tmp_path / "a" / "ndcg.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    result = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert set(result["strategies"]) == set(recommenders.VARIANTS)
    assert set(result["baselines"]) == {"random", "most_popular", "item_knn", "ease", "ease_200"}
    assert result["data"]["test_users"] == 30 and result["data"]["test_pairs"] == 30 * 3
    # Users prefer a genre: the trained strategies must beat random lists.
    assert result["strategies"]["hybrid"]["ndcg"] > result["baselines"]["random"]["ndcg"]
    assert 0 < result["rating"]["svd"]["rmse"] < result["rating"]["svd"]["rmse_global_mean"] + 1
    report = (tmp_path / "a" / "report.md").read_text()
    for heading in (
        "## Protocol",
        "## Data",
        "## Top-10 accuracy",
        "## Beyond accuracy",
        "## Ratings",
        "## NDCG by training history",
        "## Timings",
        "![ndcg.png]",
    ):
        assert heading in report
    second = run(*args, "--out", tmp_path / "b")
    assert second.exit_code == 0, second.output
    again = json.loads((tmp_path / "b" / "metrics.json").read_text())
    assert steady(again) == steady(result)
    assert scratch_databases(db_url) == []


def test_live_events_are_copied_not_touched(run, files, tmp_path, db_url):
    data, _ = files
    imported = CliRunner().invoke(
        main, ["import", "events", str(data), "--preset", "movielens-100k"]
    )
    assert imported.exit_code == 0, imported.output
    with psycopg.connect(db_url) as conn:
        before = conn.execute("select count(*), sum(score) from recsys.interactions").fetchone()
    result = run(
        "--split",
        "leave-last-out",
        "--strategies",
        "popular,collaborative",
        "--out",
        tmp_path / "live",
    )
    assert result.exit_code == 0, result.output
    figures = json.loads((tmp_path / "live" / "metrics.json").read_text())
    assert figures["data"]["test_pairs"] == 30 and set(figures["strategies"]) == {
        "popular",
        "collaborative",
    }
    with psycopg.connect(db_url) as conn:
        after = conn.execute("select count(*), sum(score) from recsys.interactions").fetchone()
        runs = conn.execute("select count(*) from recsys.model_runs").fetchone()[0]
    assert after == before and runs == 0
    assert scratch_databases(db_url) == []


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--test-fraction", "1.5"], "--test-fraction must be between 0 and 1"),
        (["--k", "0"], "--k must be between 1 and 100"),
        (["--strategies", "popular,magic"], "unknown strategy magic"),
    ],
)
def test_bad_options_fail_with_one_line_and_no_scratch_database(run, files, db_url, args, problem):
    data, _ = files
    result = run("--events", data, "--preset", "movielens-100k", *args)
    assert result.exit_code == 1
    assert problem in result.output and len(result.output.strip().splitlines()) == 1
    assert scratch_databases(db_url) == []


def test_a_file_without_times_needs_the_random_split(run, tmp_path, db_url):
    path = tmp_path / "views.csv"
    path.write_text("".join(f"u{u},i{i}\n" for u in range(5) for i in range(u, u + 6)))
    result = run("--events", path, "--columns", "user,item")
    assert result.exit_code == 1 and "needs event times" in result.output
    assert scratch_databases(db_url) == []
