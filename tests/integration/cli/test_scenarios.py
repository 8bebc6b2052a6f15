"""`recsys scenarios list|show|set|delete`."""

import json


def test_cli_sets_shows_lists_and_deletes(run):
    rules = '{"filter": {"field": "categories", "op": "contains", "value": "shoes"}}'
    created = run(
        "scenarios",
        "set",
        "shoes",
        "--case",
        "popular",
        "--rules",
        rules,
        "--k",
        "4",
        "--fallback",
        "content_based",
        "--description",
        "shoe page",
    )
    assert created.exit_code == 0, created.output
    assert "created scenario shoes" in created.output
    shown = run("scenarios", "show", "shoes")
    assert shown.exit_code == 0
    body = json.loads(shown.output)
    assert body["rules"] == json.loads(rules) and body["k"] == 4
    assert body["fallback"] == ["content_based"]
    listed = run("scenarios", "list")
    assert listed.output.splitlines()[1].split()[:4] == ["shoes", "popular", "4", "0"]
    bad = run("scenarios", "set", "x", "--case", "popular", "--rules", '{"pin": [{}]}')
    assert bad.exit_code == 1 and "rules.pin[0].product_id" in bad.output
    assert run("scenarios", "delete", "shoes").exit_code == 0
    gone = run("scenarios", "show", "shoes")
    assert gone.exit_code == 1 and "unknown scenario" in gone.output
