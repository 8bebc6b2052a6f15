"""`recsys experiments create|list|start|stop|report` against a real database."""

from __future__ import annotations

import json

from tests.support.api import fetch
from tests.support.experiments import act, item, show, user

AB = ("--arm", "control=popular", "--arm", "treatment=hybrid:switching")


def test_create_list_start_stop(run):
    made = run(
        "experiments",
        "create",
        "home",
        *AB,
        "--share",
        "control=1",
        "--share",
        "treatment=3",
        "--param",
        "treatment.category=Comedy",
        "--param",
        "treatment.rotation=0.2",
    )
    assert made.exit_code == 0, made.output
    assert made.output.split() == [
        "home",
        "ab",
        "draft",
        "control=popular",
        "x1,",
        "treatment=hybrid:switching",
        "x3",
    ]
    assert run("experiments", "start", "home").output.split()[2] == "running"
    listing = run("experiments", "list")
    assert listing.exit_code == 0 and listing.output.split()[:3] == ["home", "ab", "running"]
    assert run("experiments", "stop", "home").output.split()[2] == "stopped"


def test_create_stores_params_and_start(run, conn):
    made = run(
        "experiments",
        "create",
        "mix",
        "--mode",
        "interleave",
        *AB,
        "--param",
        "treatment.rotation=0.2",
        "--start",
    )
    assert made.exit_code == 0, made.output
    assert "running" in made.output
    rows = fetch(
        conn,
        "select a.name, a.case_name, a.method, a.params from recsys.experiment_arms a"
        " order by a.position",
    )
    assert rows == [
        ("control", "popular", None, {}),
        ("treatment", "hybrid", "switching", {"rotation": 0.2}),
    ]


def test_failures_are_one_line_and_write_nothing(run, conn):
    cases = [
        (("create", "e", "--arm", "control=popular"), "arms: an experiment needs at least 2 arms"),
        (("create", "e", "--arm", "a=popular", "--arm", "b=magic"), "arms.1.case: case must be"),
        (("create", "e", *AB, "--share", "control=x"), "--share: 'x' is not a number"),
        (("create", "e", *AB, "--share", "nobody=1"), "without --arm: nobody"),
        (("create", "e", *AB, "--param", "control.k=1"), "arms.0.params: unknown parameter 'k'"),
        (("create", "e", *AB, "--param", "control=1"), "expected ARM.KEY=VALUE"),
        (("start", "nope"), "unknown experiment 'nope'"),
        (("report", "nope"), "unknown experiment 'nope'"),
    ]
    for args, message in cases:
        result = run("experiments", *args)
        assert result.exit_code == 1, (args, result.output)
        assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert fetch(conn, "select count(*) from recsys.experiments") == [(0,)]
    assert run("experiments", "create", "e", *AB).exit_code == 0
    again = run("experiments", "create", "e", *AB)
    assert again.exit_code == 1 and "exists already" in again.output


def test_report_as_table_and_json(run, conn):
    assert run("experiments", "create", "home", *AB, "--start").exit_code == 0
    goods = item(conn, "i1")
    for arm, n in (("control", 0), ("treatment", 1)):
        who = user(conn, f"u{n}")
        act(conn, show(conn, "home", who, [goods], arm=arm), who, goods, "view")
    conn.commit()
    table = run("experiments", "report", "home")
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0].startswith("experiment home (ab, running, started ")
    columns = ["control", "popular", "1", "1", "1", "1", "100.0%", "100.0%", "0.0%"]
    assert lines[2].split() == columns
    assert "treatment against control:" in table.output
    assert (
        lines[-1]
        == "verdict (alpha 0.05): no significant difference in user click rate at alpha 0.05"
    )
    as_json = run("experiments", "report", "home", "--json")
    body = json.loads(as_json.output)
    assert [arm["clicks"] for arm in body["arms"]] == [1, 1]
    assert body["winner"] is None and body["started_at"]
