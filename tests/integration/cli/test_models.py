"""`recsys train`, `recsys models`, `recsys models activate` against a real database."""

import psycopg

from app.jobs import training as scheduled
from tests.support.training import load, taste_ratings, views_of_groups


def test_train_list_and_roll_back(run, conn):
    load(conn, views_of_groups())
    first = run("train", "--model", "ease", "--no-validate")
    assert first.exit_code == 0, first.output
    assert "run 1 (ease, implicit) active" in first.output
    second = run("train", "--model", "ease")
    assert second.exit_code == 0, second.output
    assert "ndcg_at_10=" in second.output
    listing = run("models")
    assert listing.exit_code == 0, listing.output
    lines = [line for line in listing.output.splitlines() if not line.startswith("        ")]
    assert lines[0].startswith("*    2  ease") and lines[1].startswith("     1  ease")
    # Under the active run: what validation chose.
    assert listing.output.splitlines()[1].startswith("        chosen on validation (temporal")
    back = run("models", "activate", 1)
    assert back.exit_code == 0 and "run 1 (ease) is the active implicit model" in back.output
    assert run("models").output.splitlines()[1].startswith("*    1")


def test_train_on_a_catalogue_without_events_trains_content_and_says_what_it_skipped(run, conn):
    conn.execute(
        "insert into recsys.items (external_id, title) values"
        " ('boot', 'Leather hiking boot'), ('boot-2', 'Leather walking boot'),"
        " ('sandal', 'Leather beach sandal')"
    )
    conn.commit()
    result = run("train")
    assert result.exit_code == 0, result.output
    assert "skipped svd: no ratings" in result.output
    assert "skipped implicit: no interactions" in result.output
    assert "skipped hybrid: no interactions" in result.output
    assert "(content, content) active" in result.output
    embedded = conn.execute("select count(embedding) from recsys.items").fetchone()[0]
    assert embedded == 3


def test_models_says_which_model_collaborative_tries_first(run, conn):
    load(conn, taste_ratings())
    assert run("train").exit_code == 0
    listing = run("models").output.splitlines()
    assert listing[-1].startswith("case=collaborative tries ")
    assert "validation NDCG@10" in listing[-1]


def test_errors_are_one_line(run, conn):
    empty = run("train")
    assert empty.exit_code == 1 and "nothing to train" in empty.output
    assert "implicit: no interactions" in empty.output
    missing = run("models", "activate", 99)
    assert missing.exit_code == 1 and "unknown model run 99" in missing.output
    load(conn, views_of_groups())
    ratings = run("train", "--model", "svd")
    assert ratings.exit_code == 1 and "no ratings" in ratings.output


def test_only_one_instance_trains_at_a_time(db_url, conn):
    load(conn, views_of_groups())
    with psycopg.connect(db_url, autocommit=True) as other:
        other.execute("select pg_advisory_lock(7303475810)")
        assert scheduled.train_if_free(db_url) is False
        other.execute("select pg_advisory_unlock(7303475810)")
    assert scheduled.train_if_free(db_url) is True
    roles = conn.execute("select role from recsys.model_runs where active order by 1").fetchall()
    assert roles == [("hybrid",), ("implicit",)]
