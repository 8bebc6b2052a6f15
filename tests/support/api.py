"""Small shared helpers for the HTTP tests: requests in, rows and errors out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import psycopg
from psycopg import sql

Conn = psycopg.Connection[tuple[Any, ...]]

# The tables a request may write to; "nothing written" means none of them changed.
WRITTEN_TABLES = (
    "events",
    "users",
    "items",
    "interactions",
    "item_stats",
    "item_type_stats",
    "rejections",
    "item_pairs",
    "user_item_types",
    "cross_pairs",
    "exposures",
    "scenarios",
)


async def post_event(client: Any, **event: Any) -> Any:
    return await client.post("/event", json=event)


async def post_events(client: Any, rows: Iterable[Mapping[str, Any]]) -> Any:
    """POST /events and return the response (any status)."""
    return await client.post("/events", json={"events": list(rows)})


async def record(client: Any, rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """POST /events that must succeed; returns {inserted, duplicates}."""
    response = await post_events(client, rows)
    body = await response.get_json()
    assert response.status_code == 201, body
    return body  # type: ignore[no-any-return]


def views(user: str, *products: str, event_type: str = "view") -> list[dict[str, Any]]:
    """One event of `event_type` by `user` on each product, in order."""
    return [{"user_id": user, "product_id": p, "event_type": event_type} for p in products]


async def put_item(client: Any, product_id: str, **fields: Any) -> dict[str, Any]:
    response = await client.put(f"/items/{product_id}", json=fields)
    body = await response.get_json()
    assert response.status_code in (200, 201), body
    return body  # type: ignore[no-any-return]


async def get_json(client: Any, path: str, expected: int = 200, **params: Any) -> Any:
    """GET path?params, assert the status, return the JSON body."""
    response = await client.get(path, query_string=params or None)
    body = await response.get_json()
    assert response.status_code == expected, body
    return body


async def recommend(client: Any, **params: Any) -> list[dict[str, Any]]:
    """GET /recommend that must succeed; returns its recommendations."""
    body = await get_json(client, "/recommend", **params)
    return body["recommendations"]  # type: ignore[no-any-return]


def ids(recommendations: Iterable[Mapping[str, Any]]) -> list[str]:
    return [r["product_id"] for r in recommendations]


async def error_of(response: Any, status: int) -> dict[str, Any]:
    """Assert `response` is a JSON error with `status`; return its "error" object."""
    assert response.status_code == status, await response.get_data(as_text=True)
    assert response.content_type.startswith("application/json")
    body = await response.get_json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    return error  # type: ignore[no-any-return]


def fields_of(error: Mapping[str, Any]) -> dict[str, str]:
    return dict(error.get("fields") or {})


def count(conn: Conn, table: str) -> int:
    """Rows in recsys.<table>, read in a fresh transaction."""
    conn.rollback()
    row = conn.execute(
        sql.SQL("select count(*) from {}").format(sql.Identifier("recsys", table))
    ).fetchone()
    conn.rollback()
    assert row is not None
    return int(row[0])


def counts(conn: Conn) -> dict[str, int]:
    """Row counts of every table a request may write."""
    return {table: count(conn, table) for table in WRITTEN_TABLES}


def fetch(conn: Conn, query: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """Run a read-only query in a fresh transaction."""
    conn.rollback()
    rows = conn.execute(query, params).fetchall()  # type: ignore[arg-type]
    conn.rollback()
    return rows


def stored_events(conn: Conn) -> list[tuple[Any, ...]]:
    """(user, product, event_type, value, ts, event_id) of every event, in insertion order."""
    return fetch(
        conn,
        """
        select u.external_id, i.external_id, t.name, e.value, e.ts, e.event_key
          from recsys.events e
          join recsys.users u on u.id = e.user_id
          join recsys.items i on i.id = e.item_id
          join recsys.event_types t on t.id = e.type_id
         order by e.id
        """,
    )


async def co_viewed(client: Any) -> None:
    """A small data set: three users viewed A and B together, two viewed C and D,
    and five more items (E..I) were viewed once each by one-off users."""
    rows: list[dict[str, Any]] = []
    for user in ("u1", "u2", "u3"):
        rows += views(user, "A", "B")
    for user in ("u4", "u5"):
        rows += views(user, "C", "D")
    for n, product in enumerate("EFGHI"):
        rows += views(f"solo{n}", product)
    await record(client, rows)
