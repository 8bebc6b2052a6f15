"""The admin experiment API: happy paths, and every error as JSON naming its field."""

from __future__ import annotations

import pytest

from tests.support.api import error_of, fetch, get_json
from tests.support.experiments import AB_ARMS, body


def experiment_rows(conn):
    return (
        fetch(conn, "select count(*) from recsys.experiments")[0][0]
        + fetch(conn, "select count(*) from recsys.experiment_arms")[0][0]
    )


async def test_create_list_get_start_stop(client):
    response = await client.post("/admin/experiments", json=body(description="home page"))
    created = await response.get_json()
    assert response.status_code == 201, created
    assert created["status"] == "draft" and created["description"] == "home page"
    assert [arm["name"] for arm in created["arms"]] == ["control", "treatment"]
    assert created["arms"][1] == {
        "name": "treatment",
        "case": "hybrid",
        "method": "switching",
        "params": {},
        "share": 1.0,
    }
    listed = await get_json(client, "/admin/experiments")
    assert [e["name"] for e in listed["experiments"]] == ["exp1"]
    assert await get_json(client, "/admin/experiments/exp1") == created
    started = await (await client.post("/admin/experiments/exp1/start")).get_json()
    assert started["status"] == "running" and started["started_at"]
    stopped = await (await client.post("/admin/experiments/exp1/stop")).get_json()
    assert stopped["status"] == "stopped" and stopped["stopped_at"]


async def test_create_with_start_runs_at_once(client):
    response = await client.post("/admin/experiments", json=body(start=True, mode="interleave"))
    assert response.status_code == 201
    assert (await response.get_json())["status"] == "running"


async def test_an_empty_report(client, conn):
    await client.post("/admin/experiments", json=body(start=True))
    report = await get_json(client, "/admin/experiments/exp1/report")
    assert report["experiment"] == "exp1" and report["winner"] is None
    assert [arm["users"] for arm in report["arms"]] == [0, 0]
    assert report["comparisons"][0]["click_rate"]["p_value"] is None
    assert "no significant difference" in report["verdict"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "has space"}, "name"),
        ({"mode": "abc"}, "mode"),
        ({"arms": AB_ARMS[:1]}, "arms"),
        ({"arms": [AB_ARMS[0], {**AB_ARMS[1], "case": "magic"}]}, "arms.1.case"),
        ({"arms": [AB_ARMS[0], {**AB_ARMS[1], "share": 0}]}, "arms.1.share"),
        ({"arms": [AB_ARMS[0], {**AB_ARMS[1], "strategy": "x"}]}, "arms.1.strategy"),
        ({"arms": [{**AB_ARMS[0], "method": "adaptive"}, AB_ARMS[1]]}, "arms.0.method"),
        (
            {"arms": [{**AB_ARMS[0], "params": {"rotation": 2}}, AB_ARMS[1]]},
            "arms.0.params.rotation",
        ),
        ({"arms": [{**AB_ARMS[0], "params": {"k": 2}}, AB_ARMS[1]]}, "arms.0.params"),
        ({"arms": [AB_ARMS[0], {**AB_ARMS[1], "name": "control"}]}, "arms.name"),
        ({"mode": "interleave", "arms": [*AB_ARMS, {"name": "c", "case": "popular"}]}, "arms"),
    ],
)
async def test_bad_definitions_are_400_naming_the_field_and_write_nothing(
    client, conn, change, field
):
    response = await client.post("/admin/experiments", json={**body(), **change})
    error = await error_of(response, 400)
    assert error["code"] == "invalid_request"
    assert field in error["fields"], error
    assert experiment_rows(conn) == 0


async def test_a_duplicate_name_is_409_and_changes_nothing(client, conn):
    assert (await client.post("/admin/experiments", json=body())).status_code == 201
    before = experiment_rows(conn)
    other = body(arms=[AB_ARMS[1], AB_ARMS[0]])
    error = await error_of(await client.post("/admin/experiments", json=other), 409)
    assert error["fields"] == {"name": error["message"]} and "exp1" in error["message"]
    assert experiment_rows(conn) == before
    assert (await get_json(client, "/admin/experiments/exp1"))["arms"][0]["name"] == "control"


async def test_unknown_experiments_are_404(client):
    for method, path in [
        ("GET", "/admin/experiments/nope"),
        ("POST", "/admin/experiments/nope/start"),
        ("POST", "/admin/experiments/nope/stop"),
        ("GET", "/admin/experiments/nope/report"),
    ]:
        error = await error_of(await client.open(path, method=method), 404)
        assert error["fields"] == {"name": "unknown"} and "'nope'" in error["message"]


async def test_lifecycle_conflicts_are_409(client):
    await client.post("/admin/experiments", json=body())
    error = await error_of(await client.post("/admin/experiments/exp1/stop"), 409)
    assert "has not started" in error["message"]
    await client.post("/admin/experiments/exp1/start")
    await client.post("/admin/experiments/exp1/stop")
    error = await error_of(await client.post("/admin/experiments/exp1/start"), 409)
    assert "cannot run again" in error["message"]


async def test_the_routes_need_an_admin_key(secure_client):
    from tests.support.auth import KEYS, bearer

    response = await secure_client.get("/admin/experiments", headers=bearer(KEYS["write"]))
    await error_of(response, 403)
    response = await secure_client.get("/admin/experiments", headers=bearer(KEYS["admin"]))
    assert response.status_code == 200
