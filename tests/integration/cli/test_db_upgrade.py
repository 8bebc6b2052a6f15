"""`recsys db upgrade` on a database this build cannot upgrade says how to recreate it."""

import psycopg


def test_unknown_revision_fails_with_one_line_naming_the_fix(db_url, run):
    # A database left by a pre-release build, whose revisions were squashed away.
    with psycopg.connect(db_url) as conn:
        conn.execute("update recsys.alembic_version set version_num = '0005_erasure_retention'")
    result = run("db", "upgrade")
    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert "0005_erasure_retention" in line
    assert "drop schema recsys cascade" in line


def test_a_current_database_upgrades_quietly(run):
    result = run("db", "upgrade")
    assert result.exit_code == 0, result.output
