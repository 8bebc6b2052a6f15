"""Health, the OpenAPI document, and the JSON error format for malformed requests,
unknown paths and wrong methods."""

from __future__ import annotations

import json

import pytest

from app import recommenders
from tests.support.api import counts, error_of, fields_of, get_json, record, views


async def test_health(client):
    assert await get_json(client, "/health") == {"status": "ok", "database": "ok"}


async def test_openapi_lists_the_paths(client):
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document = json.loads(await response.get_data(as_text=True))
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    for path, method in [
        ("/recommend", "get"),
        ("/realtime-recommend", "get"),
        ("/event", "post"),
        ("/events", "post"),
        ("/items", "post"),
        ("/items/{product_id}", "put"),
        ("/items/{product_id}", "get"),
        ("/items/{product_id}/similar", "get"),
        ("/users/{user_id}/history", "get"),
        ("/health", "get"),
    ]:
        assert path in paths, path
        assert method in paths[path], (path, method)
    parameters = {p["name"]: p for p in paths["/recommend"]["get"].get("parameters", [])}
    assert {"user_id", "case", "k", "exclude", "category"} <= set(parameters)
    # The cases are the one list of strategies, each described.
    case = parameters["case"]
    assert case["schema"]["enum"] == list(recommenders.NAMES)
    assert all(f"{s.name}: {s.summary}" in json.dumps(case) for s in recommenders.STRATEGIES)


async def test_unknown_path_is_a_json_404(client):
    error = await error_of(await client.get("/no/such/thing"), 404)
    assert error["code"] == "not_found"


async def test_wrong_method_is_a_json_405(client):
    for method, path in [
        ("GET", "/event"),
        ("PUT", "/events"),
        ("DELETE", "/recommend"),
        ("POST", "/health"),
        ("POST", "/items/p1"),
    ]:
        error = await error_of(await client.open(path, method=method), 405)
        assert error["code"] == "method_not_allowed", (method, path)


async def test_405_says_which_methods_are_allowed(client):
    # RFC 9110 15.5.6: a 405 response MUST carry an Allow header.
    for method, path, allowed in [("GET", "/event", "POST"), ("POST", "/items/p1", "PUT")]:
        response = await client.open(path, method=method)
        assert response.status_code == 405
        assert allowed in response.headers.get("Allow", ""), (path, dict(response.headers))


async def test_oversized_request_body_is_a_json_413(client, conn):
    body = b'{"events": [' + b" " * (33 * 1024 * 1024) + b"]}"
    response = await client.post("/events", data=body, headers={"Content-Type": "application/json"})
    await error_of(response, 413)
    assert counts(conn)["events"] == 0


BODY_ENDPOINTS = [("POST", "/event"), ("POST", "/events"), ("PUT", "/items/p1"), ("POST", "/items")]


@pytest.mark.parametrize(("method", "path"), BODY_ENDPOINTS)
async def test_malformed_json_is_400_and_writes_nothing(client, conn, method, path):
    await record(client, views("seed", "p0"))
    before = counts(conn)
    for data in ("{not json", "", '{"user_id": "u1",}', "\x00"):
        response = await client.open(
            path, method=method, data=data, headers={"Content-Type": "application/json"}
        )
        await error_of(response, 400)
        assert counts(conn) == before, data


@pytest.mark.parametrize(("method", "path"), BODY_ENDPOINTS)
async def test_body_that_is_not_an_object_is_400(client, conn, method, path):
    for payload in ([1, 2], "text", 3, None, []):
        response = await client.open(
            path,
            method=method,
            data=json.dumps(payload),
            headers={"Content-Type": "application/json"},
        )
        await error_of(response, 400)
    assert all(n == 0 for n in counts(conn).values())


@pytest.mark.parametrize(("method", "path"), BODY_ENDPOINTS)
async def test_body_without_json_content_type_is_400(client, conn, method, path):
    body = json.dumps({"user_id": "u1", "product_id": "p1", "event_type": "view"})
    response = await client.open(
        path, method=method, data=body, headers={"Content-Type": "text/plain"}
    )
    await error_of(response, 400)
    assert all(n == 0 for n in counts(conn).values())


async def test_missing_user_id_names_it_and_writes_nothing(client, conn):
    response = await client.post("/event", json={"product_id": "p1", "event_type": "view"})
    error = await error_of(response, 400)
    assert error["code"] == "invalid_request"
    assert "user_id" in fields_of(error)
    assert "user_id" in error["message"]
    assert all(n == 0 for n in counts(conn).values())


async def test_unknown_event_type_names_it_and_writes_nothing(client, conn):
    response = await client.post(
        "/event", json={"user_id": "u1", "product_id": "p1", "event_type": "click"}
    )
    error = await error_of(response, 400)
    assert "event_type" in fields_of(error)
    assert all(n == 0 for n in counts(conn).values())
