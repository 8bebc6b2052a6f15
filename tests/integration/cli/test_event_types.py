"""`recsys event-types list|set|delete`."""

import psycopg

from tests.support.events import ingest


def test_cli_sets_lists_and_deletes(run, db_url):
    created = run("event-types", "set", "wishlist", "--weight", "2")
    assert created.exit_code == 0 and "created event type wishlist" in created.output
    with psycopg.connect(db_url) as conn:
        ingest(conn, [("u1", "a", "wishlist", None, None)])
    listed = run("event-types", "list")
    assert listed.exit_code == 0
    line = next(x for x in listed.output.splitlines() if x.startswith("wishlist"))
    assert line.split() == ["wishlist", "positive", "2", "no", "no", "1"]
    refused = run("event-types", "delete", "wishlist")
    assert refused.exit_code == 1 and "is used by 1 events" in refused.output
    bad = run("event-types", "set", "x", "--kind", "negative", "--conversion")
    assert bad.exit_code == 1 and "rejected" in bad.output
