from app.db import queries


def test_parse_splits_named_blocks():
    text = "-- name: one\nselect 1;\n\n-- name: two\nselect %(x)s;\n"
    assert queries.parse(text) == {"one": "select 1;", "two": "select %(x)s;"}


def test_every_named_query_is_non_empty():
    named = queries.all_queries()
    assert {"ingest_events", "behavior_based", "popular", "upsert_items"} <= set(named)
    assert all(sql.strip() for sql in named.values())
