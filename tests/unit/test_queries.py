import re
from pathlib import Path

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


def test_every_query_the_code_names_exists():
    # Every literal name given to queries.get in the service, the benchmarks or the
    # tests must name a block of sql/queries.sql (a KeyError at run time otherwise).
    root = Path(__file__).resolve().parents[2]
    named = set(queries.all_queries())
    asked = {
        (path.relative_to(root), name)
        for folder in ("app", "benchmarks", "tests")
        for path in (root / folder).rglob("*.py")
        for name in re.findall(r"queries\.get\(\s*\"(\w+)\"", path.read_text())
    }
    assert len(asked) > 40
    assert [(str(path), name) for path, name in sorted(asked) if name not in named] == []
