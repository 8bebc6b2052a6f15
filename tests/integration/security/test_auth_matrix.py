"""Every route x {no key, read, write, admin}: 401 without a known key, 403 when
its scope is too weak, anything else when it is strong enough. A route added
without an entry in EXPECTED (and in ROUTE_SCOPES, app/api/auth.py) fails here."""

from __future__ import annotations

import json
import re

import pytest
from quart.testing import WebsocketResponseError

from app.auth.keys import Scope
from tests.support.api import error_of
from tests.support.auth import KEYS, bearer

OPEN, READ, WRITE, ADMIN = Scope.OPEN, Scope.READ, Scope.WRITE, Scope.ADMIN

EXPECTED: dict[tuple[str, str], Scope] = {
    ("GET", "/health"): OPEN,
    ("GET", "/openapi.json"): OPEN,
    ("GET", "/docs"): OPEN,
    ("GET", "/redocs"): OPEN,
    ("GET", "/scalar"): OPEN,
    ("GET", "/demo/realtime"): OPEN,
    ("GET", "/static/<path:name>"): OPEN,
    ("GET", "/recommend"): READ,
    ("GET", "/recommend/next"): READ,
    ("POST", "/recommend"): READ,
    ("POST", "/recommend/session"): READ,
    ("GET", "/items/<path:product_id>/bought-together"): READ,
    ("GET", "/items/<path:product_id>/then-bought"): READ,
    ("GET", "/users/<path:user_id>/similar"): READ,
    ("POST", "/users/<path:user_id>/merge"): WRITE,
    ("GET", "/scenarios"): READ,
    ("GET", "/scenarios/<name>"): READ,
    ("PUT", "/admin/scenarios/<name>"): ADMIN,
    ("DELETE", "/admin/scenarios/<name>"): ADMIN,
    ("GET", "/predict"): READ,
    ("GET", "/items"): READ,
    ("GET", "/items/<path:product_id>"): READ,
    ("GET", "/items/<path:product_id>/similar"): READ,
    ("GET", "/users/<path:user_id>/history"): READ,
    ("GET", "/ws"): READ,
    ("GET", "/realtime-recommend"): WRITE,
    ("POST", "/event"): WRITE,
    ("POST", "/events"): WRITE,
    ("POST", "/items"): WRITE,
    ("PUT", "/items/<path:product_id>"): WRITE,
    ("POST", "/users/<path:user_id>/token"): WRITE,
    ("DELETE", "/users/<path:user_id>"): ADMIN,
    ("GET", "/admin/event-types"): ADMIN,
    ("PUT", "/admin/event-types/<name>"): ADMIN,
    ("DELETE", "/admin/event-types/<name>"): ADMIN,
    ("POST", "/admin/experiments"): ADMIN,
    ("GET", "/admin/experiments"): ADMIN,
    ("GET", "/admin/experiments/<name>"): ADMIN,
    ("POST", "/admin/experiments/<name>/start"): ADMIN,
    ("POST", "/admin/experiments/<name>/stop"): ADMIN,
    ("GET", "/admin/experiments/<name>/report"): ADMIN,
    ("GET", "/metrics"): ADMIN,
    ("GET", "/admin"): OPEN,
    ("GET", "/admin/overview"): ADMIN,
    ("GET", "/admin/events-per-minute"): ADMIN,
    ("GET", "/admin/loop"): ADMIN,
    ("GET", "/admin/models"): ADMIN,
    ("POST", "/admin/models/<int:run_id>/activate"): ADMIN,
    ("GET", "/admin/settings"): ADMIN,
    ("GET", "/admin/stream"): ADMIN,
    ("GET", "/strategies"): READ,
}
GRANTS = {"none": None, "read": READ, "write": WRITE, "admin": ADMIN}


def routes(app) -> list[tuple[str, str, bool]]:
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, rule.rule, rule.websocket))
    return found


def concrete(rule: str) -> str:
    return re.sub(r"<(?:[^:>]*:)?([^>]+)>", "x", rule)


async def status_of(client, method: str, rule: str, websocket: bool, key: str | None) -> int:
    path = concrete(rule)
    if websocket:
        try:
            async with client.websocket(path, headers=bearer(key)) as ws:
                await ws.send(json.dumps({"event": "hello"}))
                await ws.receive()
        except WebsocketResponseError as error:
            return error.response.status_code
        return 101
    body = {} if method in {"POST", "PUT"} else None
    response = await client.open(path, method=method, headers=bearer(key), json=body)
    if response.status_code in (401, 403):
        await error_of(response, response.status_code)  # JSON in the usual format
    return response.status_code


def expected_status(needed: Scope, grant: Scope | None) -> str:
    if needed is OPEN:
        return "allowed"
    if grant is None:
        return "401"
    return "allowed" if grant >= needed else "403"


async def test_every_route_has_a_scope(secure_app):
    missing = [(m, r) for m, r, _ in routes(secure_app.app) if (m, r) not in EXPECTED]
    assert not missing, f"add these to ROUTE_SCOPES (app/api/auth.py) and EXPECTED: {missing}"


async def test_auth_matrix(secure_app, secure_client):
    seen = 0
    for method, rule, websocket in routes(secure_app.app):
        needed = EXPECTED.get((method, rule), ADMIN)
        for name, key in KEYS.items():
            status = await status_of(secure_client, method, rule, websocket, key)
            got = str(status) if status in (401, 403) else "allowed"
            assert got == expected_status(needed, GRANTS[name]), (method, rule, name, status)
            seen += 1
    assert seen >= 4 * 20


async def test_x_api_key_header_works_like_bearer(secure_client):
    response = await secure_client.get("/items", headers={"X-API-Key": KEYS["read"]})
    assert response.status_code == 200


async def test_unknown_key_is_401_with_a_challenge(secure_client):
    response = await secure_client.get("/items", headers=bearer("not-a-key-at-all-0000"))
    error = await error_of(response, 401)
    assert error["code"] == "unauthorized" and "unknown API key" in error["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_403_names_the_scope_needed(secure_client):
    response = await secure_client.post("/event", headers=bearer(KEYS["read"]), json={})
    error = await error_of(response, 403)
    assert error["code"] == "forbidden" and "write" in error["message"]


async def test_api_key_in_the_query_string_counts_only_for_websockets(secure_client):
    response = await secure_client.get("/items", query_string={"api_key": KEYS["admin"]})
    await error_of(response, 401)


@pytest.mark.parametrize(("key", "status"), [(None, 401), ("admin", 404)])
async def test_unknown_routes_need_the_strictest_scope(secure_client, key, status):
    response = await secure_client.get("/no/such/route", headers=bearer(KEYS.get(key or "none")))
    await error_of(response, status)


async def test_options_and_head_follow_the_rules(secure_client):
    assert (await secure_client.options("/events")).status_code == 200
    assert (await secure_client.head("/items")).status_code == 401
    assert (await secure_client.head("/items", headers=bearer(KEYS["read"]))).status_code == 200


async def test_a_rejected_write_writes_nothing(secure_client, conn):
    from tests.support.api import counts

    before = counts(conn)
    event = {"user_id": "u", "product_id": "p", "event_type": "view"}
    for key in (None, KEYS["read"]):
        response = await secure_client.post("/event", headers=bearer(key), json=event)
        assert response.status_code in (401, 403)
    assert counts(conn) == before


async def test_auth_off_by_default(client):
    assert (await client.get("/items")).status_code == 200
    response = await client.post(
        "/event", json={"user_id": "u", "product_id": "p", "event_type": "view"}
    )
    assert response.status_code == 201
