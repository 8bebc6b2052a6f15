"""`alembic upgrade head` and the schema files (sql/NN_*.sql) build the same database."""

from __future__ import annotations

import os
from collections.abc import Iterator

import psycopg
import pytest

from app.db import migrate, queries
from tests.support.databases import create_database, drop_database
from tests.support.events import ingest, upsert_items
from tests.support.recompute import assert_exact

# Every object of schema recsys as (kind, name, definition) rows, alembic_version aside.
SIGNATURE = """
with rels as (
    select c.oid, c.relname, c.relkind
      from pg_class c
     where c.relnamespace = 'recsys'::regnamespace
       and c.relname <> 'alembic_version'
)
select 'column', r.relname || '.' || a.attname,
       concat_ws(' ', r.relkind, format_type(a.atttypid, a.atttypmod),
                 case when a.attnotnull then 'not null' end,
                 nullif(a.attidentity, ''), 'default ' || pg_get_expr(d.adbin, d.adrelid))
  from rels r
  join pg_attribute a on a.attrelid = r.oid and a.attnum > 0 and not a.attisdropped
  left join pg_attrdef d on d.adrelid = r.oid and d.adnum = a.attnum
 where r.relkind in ('r', 'p', 'v', 'm')
union all
select 'constraint', r.relname || '.' || con.conname, pg_get_constraintdef(con.oid)
  from pg_constraint con join rels r on r.oid = con.conrelid
union all
select 'index', r.relname, pg_get_indexdef(r.oid)
  from rels r where r.relkind = 'i' and r.relname <> 'alembic_version_pkc'
union all
select 'function', p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       md5(pg_get_functiondef(p.oid))
  from pg_proc p where p.pronamespace = 'recsys'::regnamespace and p.prokind in ('f', 'p')
union all
select 'trigger', r.relname || '.' || t.tgname, pg_get_triggerdef(t.oid)
  from pg_trigger t join rels r on r.oid = t.tgrelid where not t.tgisinternal
union all
select 'view', r.relname, pg_get_viewdef(r.oid)
  from rels r where r.relkind in ('v', 'm')
union all
select 'sequence', r.relname, '' from rels r where r.relkind = 'S'
order by 1, 2, 3
"""


SEED = """
select row(t.*)::text from recsys.event_types t
union all
select row(s.*)::text from recsys.settings s
"""


def signature(url: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(url) as conn:
        return conn.execute(SIGNATURE).fetchall()  # type: ignore[return-value]


def seed(url: str) -> list[tuple[str]]:
    with psycopg.connect(url) as conn:
        return conn.execute(SEED + " order by 1").fetchall()  # type: ignore[return-value]


@pytest.fixture
def scratch(server_url: str) -> Iterator[tuple[str, str]]:
    """An empty database: (name, url)."""
    name = f"recsys_scratch_{os.getpid()}"
    yield name, create_database(server_url, name)
    drop_database(server_url, name)


def test_schema_files_and_alembic_build_the_same_database(scratch, template_url):
    _, url = scratch
    with psycopg.connect(url) as conn:
        conn.execute(queries.schema())
    from_file, from_alembic = signature(url), signature(template_url)
    kinds = {row[0] for row in from_file}
    assert kinds == {"column", "constraint", "index", "function", "trigger", "view", "sequence"}
    assert from_file == from_alembic


def test_schema_files_and_alembic_seed_the_same_rows(scratch, template_url):
    _, url = scratch
    with psycopg.connect(url) as conn:
        conn.execute(queries.schema())
    assert len(seed(url)) == 7  # six event types and the settings row
    assert seed(url) == seed(template_url)


def test_upgrade_twice_is_a_no_op(scratch, template_url):
    _, url = scratch
    migrate.upgrade(url)
    first = signature(url)
    migrate.upgrade(url)
    assert signature(url) == first == signature(template_url)
    with psycopg.connect(url) as conn:
        versions = conn.execute("select version_num from recsys.alembic_version").fetchall()
    assert versions == [(migrate.head(),)]


def test_upgrade_on_an_up_to_date_database_is_a_no_op(db_url, template_url):
    migrate.upgrade(db_url)
    assert signature(db_url) == signature(template_url)


def test_upgrading_0007_backfills_cross_occurrence_exactly(scratch):
    """0008_cross counts the events already stored as the trigger would have."""
    _, url = scratch
    migrate.upgrade(url, "0007_models")
    rows = [
        (f"u{n}", p, t, None, None)
        for n in range(3)
        for p, t in (("a", "view"), ("b", "purchase"), ("c", "add_to_cart"), ("a", "purchase"))
    ]
    with psycopg.connect(url) as conn:
        upsert_items(conn, *({"product_id": p} for p in "abc"))
        ingest(conn, rows)
        conn.commit()
    migrate.upgrade(url)
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from recsys.cross_pairs").fetchone() == (3,)
        assert_exact(conn)
