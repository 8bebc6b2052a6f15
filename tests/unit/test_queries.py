import re

from app.db import queries


def test_parse_splits_named_blocks():
    text = "-- name: one\nselect 1;\n\n-- name: two\nselect %(x)s;\n"
    assert queries.parse(text) == {"one": "select 1;", "two": "select %(x)s;"}


def test_every_named_query_is_non_empty():
    named = queries.all_queries()
    assert {"ingest_events", "recommend", "similar_items", "upsert_items"} <= set(named)
    assert all(sql.strip() for sql in named.values())


def test_schema_files_load_in_name_order():
    files = queries.schema_files()
    assert files == sorted(files)
    assert files[0] == "01_base.sql"
    assert "queries.sql" not in files
    assert queries.schema().startswith((queries.SQL_DIR / files[0]).read_text())


def test_every_schema_function_has_one_body():
    created = re.findall(r"^create (or replace )?function recsys\.(\w+)\(", queries.schema(), re.M)
    names = [name for _, name in created]
    assert len(names) > 40
    assert not [name for replace, name in created if replace]
    assert sorted(names) == sorted(set(names))
