"""MovieLens 100K through the trigger in one statement, and through the bulk import:
the known co-occurrence totals, and with a pair window the reference recompute."""

from __future__ import annotations

from app.importing.events import import_events
from app.importing.formats import event_format
from tests.support.recompute import assert_exact

# Users sharing each unordered pair of movies, unbounded window (sum over users of C(n, 2)).
PAIRS = 983206
PAIR_USERS = 10050406


def test_ml100k_loaded_in_one_statement_gives_known_pair_counts(conn, ml100k):
    data = (ml100k / "u.data").read_bytes()
    conn.execute("update recsys.settings set pair_window = 0")
    conn.execute("create temp table stage (u text, i text, r real, t bigint) on commit drop")
    with conn.cursor() as cur, cur.copy("copy stage from stdin") as copy:
        copy.write(data)
    conn.execute("insert into recsys.users (external_id) select distinct u from stage order by 1")
    conn.execute("insert into recsys.items (external_id) select distinct i from stage order by 1")
    conn.execute(
        """insert into recsys.events (user_id, item_id, type_id, value, ts)
           select u.id, i.id, 4, s.r, to_timestamp(s.t)
             from stage s
             join recsys.users u on u.external_id = s.u
             join recsys.items i on i.external_id = s.i"""
    )
    pairs = conn.execute("select count(*), sum(users) from recsys.item_pairs").fetchone()
    assert pairs == (PAIRS, PAIR_USERS)
    assert conn.execute("select count(*) from recsys.interactions").fetchone() == (100000,)
    stats = conn.execute(
        "select count(*), sum(s.users), sum(c.events), sum(c.value_sum)"
        "  from recsys.item_stats s join recsys.item_type_stats c using (item_id)"
        " where c.type_id = 4"
    ).fetchone()
    rating_sum = sum(int(line.split(b"\t")[2]) for line in data.splitlines())
    assert stats == (1682, 100000, 100000, rating_sum)


def test_ml100k_bulk_import_gives_the_same_counts(conn, ml100k):
    """`recsys import events` into the empty shop: the bulk path, the known totals."""
    conn.execute("update recsys.settings set pair_window = 0")
    conn.commit()
    report = import_events(
        conn.info.dsn, ml100k / "u.data", event_format("movielens-100k"), progress=False
    )
    assert (report.inserted, report.bulk) == (100000, True)
    pairs = conn.execute("select count(*), sum(users) from recsys.item_pairs").fetchone()
    assert pairs == (PAIRS, PAIR_USERS)
    assert conn.execute("select count(*), sum(n_items) from recsys.users").fetchone() == (
        943,
        100000,
    )


def test_ml100k_bulk_import_with_a_pair_window_equals_the_recompute(conn, ml100k):
    conn.execute("update recsys.settings set pair_window = 200")
    conn.commit()
    report = import_events(
        conn.info.dsn, ml100k / "u.data", event_format("movielens-100k"), progress=False
    )
    assert report.bulk
    assert_exact(conn)
