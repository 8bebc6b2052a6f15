"""GET /health, GET /recommend and GET /items/<id>/similar answered at the
ASGI layer, ahead of Quart.

These reads spent more CPU in the framework than in their SQL
(docs/performance.md): Quart's request and app contexts, its two tasks per
request, the hooks, quart-schema building a TypeAdapter per request. Here the
same steps run directly: the request id, the key check, the list, the metrics
and the access line, with the same functions the Quart routes use.

Whatever this path would not answer exactly as Quart does goes to Quart
untouched, before anything is sent: HEAD, a mounted root path, a key that does
not pass, an experiment or a scenario, parameters that fail validation, a
database that errs or is down (Quart runs the call again and answers with its
error JSON). tests/integration/api/test_fast_path.py compares both answers
byte for byte. REC_FAST_PATH=false sends everything to Quart.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple, TypeVar
from urllib.parse import parse_qsl

from pydantic import BaseModel, ValidationError
from quart import Quart
from quart_schema.conversion import model_dump
from werkzeug.exceptions import HTTPException
from werkzeug.routing import MapAdapter, RequestRedirect

from app import logs, recommenders
from app.api import auth, telemetry
from app.api.errors import APIError
from app.api.items import item_answer, item_query
from app.api.models import Health, RecommendArgs, SimilarArgs
from app.api.recommend import answer
from app.auth.keys import presented_key
from app.config import Settings
from app.db import pool as db_pool
from app.db import queries
from app.db.tenants import DEFAULT
from app.metrics.instruments import Metrics
from app.recommenders.base import Exposure
from app.shops import Shop, UnknownTenant

Scope = dict[str, Any]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Any, Send], Awaitable[None]]

JSON = b"application/json"
SIMILAR = "/items/<path:product_id>/similar"
M = TypeVar("M", bound=BaseModel)


class Seen(NamedTuple):
    """The request fields telemetry's access line reads, as Quart's request has them."""

    method: str
    path: str
    query_string: bytes
    remote_addr: str | None


class Call:
    """One request on the fast path: its scope, id and start."""

    __slots__ = ("rid", "route", "scope", "started")

    def __init__(self, scope: Scope, route: str) -> None:
        self.scope = scope
        self.route = route
        self.started = time.perf_counter()
        self.rid = telemetry.request_id(self.header(b"x-request-id"))
        # Quart logs and times the request with these if it gets it after all.
        scope[telemetry.SCOPE_ID] = self.rid
        scope[telemetry.SCOPE_STARTED] = self.started
        logs.request_id.set(self.rid)

    def header(self, name: bytes) -> str:
        """The first value of header `name` (lower case), as werkzeug's Headers.get."""
        for key, value in self.scope["headers"]:
            if key.lower() == name:
                return str(value.decode("latin1"))
        return ""


class FastPath:
    """The ASGI app in front of `downstream` (the Socket.IO bridge and Quart)."""

    def __init__(
        self, app: Quart, downstream: ASGIApp, settings: Settings, metrics: Metrics | None
    ) -> None:
        self._app = app
        self._downstream = downstream
        self._settings = settings
        self._metrics = metrics
        self._routes: dict[str, Callable[[Call, Send], Awaitable[bool]]] = {
            "/health": self.health,
            "/recommend": self.recommend,
        }
        self._health_body = self._body(Health(status="ok", database="ok"))
        self._urls: MapAdapter | None = None
        self.answered = 0  # requests this path answered (tests read it)

    async def __call__(self, scope: Scope, receive: Any, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and not scope.get("root_path"):
            path = scope["path"]
            route = self._routes.get(path)
            if route is not None:
                answered = await route(Call(scope, path), send)
            elif path.startswith("/items/") and path.endswith("/similar"):
                answered = await self.similar(Call(scope, SIMILAR), send)
            else:
                answered = False
            if answered:
                self.answered += 1
                return
        await self._downstream(scope, receive, send)

    async def health(self, call: Call, send: Send) -> bool:
        shop = await self._shop(call)
        if shop is None:
            return False
        try:
            async with db_pool.statement(shop.pool) as conn:
                await conn.execute(queries.get("health"))
        except Exception:  # Quart answers it, with its error JSON
            return False
        await self._send(call, send, self._health_body)
        return True

    async def recommend(self, call: Call, send: Send) -> bool:
        args = self._load(RecommendArgs, call.scope["query_string"])
        if args is None or args.experiment is not None or args.scenario is not None:
            return False
        query = args.to_query()
        if recommenders.BY_NAME[args.case].missing(query):
            return False
        exposure = self._exposure("recommend")

        async def serve(shop: Shop) -> Any:
            served = await recommenders.serve_read(shop.reads, args.case, query, exposure)
            return answer(args.case, query, served, exposure)

        return await self._list(call, send, serve, args.case, "recommend")

    async def similar(self, call: Call, send: Send) -> bool:
        product_id = self._similar_item(call.scope["path"])
        args = self._load(SimilarArgs, call.scope["query_string"])
        if product_id is None or args is None:
            return False
        query, exposure = item_query(product_id, args), self._exposure("similar")

        async def serve(shop: Shop) -> Any:
            async with db_pool.statement(shop.pool) as conn:
                served = await recommenders.serve_similar(conn, query, args.by, exposure)
            return item_answer(product_id, recommenders.SIMILAR, served)

        return await self._list(call, send, serve, recommenders.SIMILAR, "similar")

    async def _list(
        self,
        call: Call,
        send: Send,
        serve: Callable[[Shop], Awaitable[Any]],
        case: str,
        surface: str,
    ) -> bool:
        """A list served and sent, counted under (case, surface) as Quart's
        route counts it; False, with nothing written, when Quart must answer."""
        shop = await self._shop(call)
        if shop is None:
            return False
        try:
            model = await serve(shop)
        except Exception:  # the statement failed, nothing was written: Quart answers it
            return False
        if self._metrics is not None:
            self._metrics.lists.labels(case, surface).inc()
        await self._send(call, send, self._body(model))
        return True

    def _exposure(self, surface: str) -> Exposure:
        return Exposure(surface=surface, log=self._settings.exposures)

    def _similar_item(self, path: str) -> str | None:
        """The product id when Quart's own routing takes `path` to the similar
        route (a product id may hold slashes, and other routes end alike)."""
        if self._urls is None:  # bound at the first request, every route registered
            self._urls = self._app.url_map.bind("")
        try:
            endpoint, values = self._urls.match(path, method="GET")
        except (HTTPException, RequestRedirect):
            return None
        return str(values["product_id"]) if endpoint == "items.similar" else None

    def _load(self, model: type[M], query_string: bytes) -> M | None:
        """The query as quart-schema's validate_querystring loads it; None when
        it does not load (Quart then answers the 400)."""
        if self._app.config["QUART_SCHEMA_CONVERT_CASING"]:
            return None
        try:
            pairs = parse_qsl(
                query_string.decode(), keep_blank_values=True, errors="werkzeug.url_quote"
            )
            return model.model_validate(querystring_dict(pairs))
        except (UnicodeDecodeError, ValidationError, TypeError, ValueError):
            return None

    async def _shop(self, call: Call) -> Shop | None:
        """The caller's tenant's shop, as auth's before_request finds it; None
        when its key does not pass, its tenant is unknown or its pool is down."""
        shops = self._app.extensions.get("recsys.shops")
        if shops is None:
            return None
        settings = self._settings
        tenant = DEFAULT
        if settings.auth_enabled:
            key = presented_key(call.header(b"authorization"), call.header(b"x-api-key"))
            try:
                _, tenant = auth.caller(settings, "GET", call.route, key)
            except APIError:
                return None
        try:
            shop: Shop = await shops.get(tenant)
        except UnknownTenant:
            return None
        return None if shop.pool.down else shop

    def _body(self, model: Any) -> bytes:
        """The model as quart-schema dumps it and jsonify sends it."""
        config = self._app.config
        value = model_dump(
            model,
            preference=config["QUART_SCHEMA_CONVERSION_PREFERENCE"],
            pydantic_kwargs=config["QUART_SCHEMA_PYDANTIC_DUMP_OPTIONS"],
        )
        return self._app.json.body(value)  # type: ignore[attr-defined,no-any-return]

    async def _send(self, call: Call, send: Send, body: bytes) -> None:
        """A 200 with Quart's headers; counted and logged first, as Quart's
        after_request does."""
        scope = call.scope
        seconds = time.perf_counter() - call.started
        client = scope.get("client")
        seen = Seen("GET", scope["path"], scope["query_string"], client[0] if client else "<local>")
        telemetry.record(self._metrics, seen, call.route, 200, seconds, call.rid)
        headers = [
            (b"content-type", JSON),
            (b"content-length", str(len(body)).encode()),
            (b"x-request-id", call.rid.encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def querystring_dict(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """What quart-schema's validate_querystring builds from request.args: a
    key's values as a list when it repeats or ends in [], else its one value."""
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    data: dict[str, Any] = {}
    for key, values in grouped.items():
        if key.endswith("[]"):
            data[key.removesuffix("[]")] = values
        else:
            data[key] = values if len(values) > 1 else values[0]
    return data
