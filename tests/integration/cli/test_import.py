"""`recsys import` against a real database: all rows or none, errors with line numbers."""

import psycopg
import pytest

from tests.support.recompute import assert_exact


def count(db_url, table):
    with psycopg.connect(db_url) as conn:
        return conn.execute(f"select count(*) from recsys.{table}").fetchone()[0]


def test_movielens_events_preset(run, db_url, tmp_path):
    path = tmp_path / "u.data"
    path.write_text("1\t10\t5\t881250949\n1\t20\t3\t881250950\n2\t10\t4\t881250951\n")
    result = run("import", "events", path, "--preset", "movielens-100k")
    assert result.exit_code == 0, result.output
    assert "3 events imported" in result.output
    with psycopg.connect(db_url) as conn:
        pairs = conn.execute("select users from recsys.item_pairs").fetchall()
        ts = conn.execute("select min(ts)::text from recsys.events").fetchone()[0]
    assert pairs == [(1,)]
    assert ts.startswith("1997-12-04 15:55:49")


def test_csv_with_header_types_and_iso_times(run, db_url, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(
        "who,what,kind,when\nu1,a,view,2026-01-02T03:04:05Z\nu1,a,purchase,2026-01-02T03:05:00Z\n"
    )
    result = run("import", "events", path, "--header", "--columns", "user,item,type,time")
    assert result.exit_code == 0, result.output
    with psycopg.connect(db_url) as conn:
        row = conn.execute("select events, conversions from recsys.interactions").fetchone()
    assert row == (2, 1)


@pytest.mark.parametrize(
    ("content", "line", "problem"),
    [
        ("1\t10\t5\t881250949\n2\t10\t4\tyesterday\n", 2, "unparsable timestamp"),
        ("1\t10\t5\t881250949\n\t10\t4\t881250949\n", 2, "empty user id"),
        ("1\t10\t5\t881250949\n1\t11\tfive\t881250949\n", 2, "not a number"),
        ("1\t10\t5\t881250949\n1\t11\t5\t881250949\t9\t9\n", 2, "malformed row"),
    ],
)
def test_bad_row_is_named_and_nothing_is_stored(run, db_url, tmp_path, content, line, problem):
    path = tmp_path / "u.data"
    path.write_text(content)
    result = run("import", "events", path, "--preset", "movielens-100k")
    assert result.exit_code == 1
    assert f"line {line}" in result.output and problem in result.output
    assert count(db_url, "events") == 0 and count(db_url, "users") == 0


def test_unknown_event_type_is_found_by_the_database_with_its_line(run, db_url, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("u1,a,view\nu1,b,view\nu2,a,like\n")
    result = run("import", "events", path, "--columns", "user,item,type")
    assert result.exit_code == 1
    assert "line 3" in result.output and 'unknown event_type "like"' in result.output
    assert count(db_url, "events") == 0


def test_bad_columns_option_is_one_clear_line(run, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("u1,a\n")
    result = run("import", "events", path, "--columns", "user,thing")
    assert result.exit_code == 1
    assert "unknown column role" in result.output
    assert "Traceback" not in result.output


def test_movielens_csv_items(run, db_url, tmp_path):
    path = tmp_path / "movies.csv"
    path.write_text(
        "movieId,title,genres\n"
        '1,"Toy Story (1995)",Adventure|Animation\n'
        "2,Heat (1995),(no genres listed)\n"
    )
    result = run("import", "items", path, "--preset", "movielens-csv")
    assert result.exit_code == 0, result.output
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "select external_id, title, categories from recsys.items order by 1"
        ).fetchall()
    assert rows == [("1", "Toy Story (1995)", ["Adventure", "Animation"]), ("2", "Heat (1995)", [])]


def test_movielens_100k_items(run, db_url, ml100k):
    result = run("import", "items", ml100k / "u.item", "--preset", "movielens-100k")
    assert result.exit_code == 0, result.output
    with psycopg.connect(db_url) as conn:
        title, categories, attrs = conn.execute(
            "select title, categories, attributes from recsys.items where external_id = '1'"
        ).fetchone()
        total = conn.execute("select count(*) from recsys.items").fetchone()[0]
    assert title == "Toy Story (1995)"
    assert categories == ["Animation", "Children's", "Comedy"]
    assert attrs["release_date"] == "01-01-1995"
    lines = sum(1 for _ in (ml100k / "u.item").open("rb"))
    assert total == lines


def test_demo_without_serving(run, db_url):
    # Loading only: no training, no simulated visitors (tests/integration/cli/test_demo.py).
    result = run("demo", "--users", 30, "--items", 20, "--events-per-user", 5,
                 "--no-train", "--visitors", 0, "--per-strategy", 0, "--no-serve")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert count(db_url, "events") == 150
    with psycopg.connect(db_url) as conn:
        kinds = {r[0] for r in conn.execute("select distinct type_id from recsys.events")}
        categories = conn.execute("select count(*) from recsys.items where categories = '{}'")
        assert categories.fetchone()[0] == 0
    assert 1 in kinds and len(kinds) >= 2


def test_db_url_prints_the_configured_database(run, db_url):
    result = run("db", "url")
    assert result.exit_code == 0
    assert result.output.strip() == db_url


def test_overlong_event_id_is_named_with_its_line(run, db_url, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(f"u1,p1,view,e1\nu1,p2,view,{'e' * 300}\n")
    result = run("import", "events", path, "--columns", "user,item,type,event_id")
    assert result.exit_code == 1
    assert "line 2" in result.output and "event id longer than 256" in result.output
    assert count(db_url, "events") == 0


RETAIL = (
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850,"
    "United Kingdom\n"
    "536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850,United Kingdom\n"
    '536366,71053,"WHITE METAL LANTERN, LARGE",6,2010-12-01 08:28:00,3.5,,France\n'
    "536367,85123A,WHITE HANGING HEART T-LIGHT HOLDER,2,2010-12-01 09:00:00,2.75,13047,France\n"
    "C536379,71053,WHITE METAL LANTERN,-1,2010-12-01 09:41:00,3.39,17850,United Kingdom\n"
)


def test_online_retail_preset(run, db_url, tmp_path):
    path = tmp_path / "online_retail.csv"
    path.write_text(RETAIL)
    events = run("import", "events", path, "--preset", "online-retail")
    assert events.exit_code == 0, events.output
    items = run("import", "items", path, "--preset", "online-retail")
    assert items.exit_code == 0, items.output
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "select u.external_id, i.external_id, t.name, t.kind, e.event_key"
            "  from recsys.events e join recsys.users u on u.id = e.user_id"
            "  join recsys.items i on i.id = e.item_id"
            "  join recsys.event_types t on t.id = e.type_id order by e.event_key"
        ).fetchall()
        catalogue = conn.execute(
            "select external_id, title, attributes from recsys.items order by 1"
        ).fetchall()
    # The anonymous sale (no CustomerID) is left out; the C invoice is a neutral return.
    assert rows == [
        ("17850", "85123A", "purchase", "positive", "536365/2"),
        ("17850", "71053", "purchase", "positive", "536365/3"),
        ("13047", "85123A", "purchase", "positive", "536367/5"),
        ("17850", "71053", "return", "neutral", "C536379/6"),
    ]
    assert catalogue == [
        (
            "71053",
            "WHITE METAL LANTERN",
            {"price": 3.39, "countries": ["France", "United Kingdom"]},
        ),
        (
            "85123A",
            "WHITE HANGING HEART T-LIGHT HOLDER",
            {"price": 2.65, "countries": ["France", "United Kingdom"]},
        ),
    ]
    # Importing the same file again stores nothing twice.
    again = run("import", "events", path, "--preset", "online-retail")
    assert again.exit_code == 0 and count(db_url, "events") == 4


def test_bulk_path_into_an_empty_shop_then_the_trigger(run, db_url, tmp_path):
    first = tmp_path / "first.csv"
    first.write_text("u1,a,view,e1\nu1,b,purchase,e2\nu2,a,add_to_cart,e3\nu2,b,dislike,e4\n")
    result = run("import", "events", first, "--columns", "user,item,type,event_id")
    assert result.exit_code == 0, result.output
    assert "4 events imported, 0 duplicates skipped (bulk path)" in result.output
    second = tmp_path / "second.csv"
    second.write_text("u1,a,view,e1\nu3,a,view,e5\nu3,b,purchase,e6\n")
    result = run("import", "events", second, "--columns", "user,item,type,event_id")
    assert "2 events imported, 1 duplicates skipped (trigger path)" in result.output
    with psycopg.connect(db_url) as conn:
        got = assert_exact(conn)
    assert sorted(v[0] for v in got["item_pairs"].values()) == [2]  # u2 disliked b


def test_path_trigger_forces_the_trigger_into_an_empty_shop(run, db_url, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("u1,a,view\nu1,b,view\n")
    result = run("import", "events", path, "--columns", "user,item,type", "--path", "trigger")
    assert result.exit_code == 0, result.output
    assert "(trigger path)" in result.output
    assert count(db_url, "item_pairs") == 1
