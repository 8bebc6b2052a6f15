"""Authentication at the edge: one table says which scope every route needs.

Off unless keys are configured (REC_API_KEYS / REC_API_KEYS_FILE). Keys come as
`Authorization: Bearer <key>` or `X-API-Key: <key>`; the /ws handshake also
takes `?api_key=` because browsers cannot set headers on a WebSocket.
"""

from __future__ import annotations

from quart import Quart, current_app, g, request, websocket

from app.api import deps
from app.api.errors import APIError
from app.auth.keys import Scope, key_of, presented_key
from app.auth.tokens import tenant_secret
from app.config import Settings
from app.db.tenants import DEFAULT
from app.realtime.protocol import Access, access_for
from app.shops import UnknownTenant

OPEN, READ, WRITE, ADMIN = Scope.OPEN, Scope.READ, Scope.WRITE, Scope.ADMIN
# Routes a metrics key (REC_API_KEYS `key:metrics`) reaches besides the open ones.
METRICS_ROUTES = {("GET", "/metrics")}

# (method, rule) -> the scope a key needs. A route missing here needs admin, so
# a route added without thinking about access is closed, not open;
# tests/integration/security/test_auth_matrix.py fails until it is listed.
ROUTE_SCOPES: dict[tuple[str, str], Scope] = {
    ("GET", "/health"): OPEN,
    ("GET", "/openapi.json"): OPEN,
    ("GET", "/docs"): OPEN,
    ("GET", "/redocs"): OPEN,
    ("GET", "/scalar"): OPEN,
    ("GET", "/demo/realtime"): OPEN,
    ("GET", "/static/<path:name>"): OPEN,
    ("GET", "/recommend"): READ,
    ("GET", "/recommend/next"): READ,
    # Reads: the rules only filter and order what the key may read anyway.
    ("POST", "/recommend"): READ,
    ("POST", "/recommend/session"): READ,
    ("GET", "/items/<path:product_id>/bought-together"): READ,
    ("GET", "/items/<path:product_id>/then-bought"): READ,
    ("GET", "/users/<path:user_id>/similar"): READ,
    # Moves events between users: a write.
    ("POST", "/users/<path:user_id>/merge"): WRITE,
    ("GET", "/scenarios"): READ,
    ("GET", "/scenarios/<name>"): READ,
    ("GET", "/predict"): READ,
    ("GET", "/items"): READ,
    ("GET", "/items/<path:product_id>"): READ,
    ("GET", "/items/<path:product_id>/similar"): READ,
    ("GET", "/users/<path:user_id>/history"): READ,
    ("GET", "/ws"): READ,
    # Records an event when product_id is given: a write, whatever the verb.
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
    # Experiments (app/api/experiments.py): defining what users see is admin's.
    # Scenarios decide what users see: admin's, like experiments.
    ("PUT", "/admin/scenarios/<name>"): ADMIN,
    ("DELETE", "/admin/scenarios/<name>"): ADMIN,
    ("POST", "/admin/experiments"): ADMIN,
    ("GET", "/admin/experiments"): ADMIN,
    ("GET", "/admin/experiments/<name>"): ADMIN,
    ("POST", "/admin/experiments/<name>/start"): ADMIN,
    ("POST", "/admin/experiments/<name>/stop"): ADMIN,
    ("GET", "/admin/experiments/<name>/report"): ADMIN,
    # Operations (docs/operations.md): an admin key, or a metrics key for Prometheus.
    ("GET", "/metrics"): ADMIN,
    # The dashboard page is static, like the demo page; its data needs admin.
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


def required_scope(method: str, rule: str | None) -> Scope:
    if method == "OPTIONS":
        return OPEN  # CORS preflights never carry credentials; they reveal only Allow
    method = "GET" if method == "HEAD" else method
    if rule is None:
        return ADMIN  # no such route: reveal nothing to callers without a key
    return ROUTE_SCOPES.get((method, rule), ADMIN)


def authorize(method: str, rule: str | None, key: str | None) -> tuple[Scope, str]:
    """The caller's scope and tenant; raises 401 without a known key, 403 when
    it is too weak."""
    return caller(deps.settings(), method, rule, key)


def caller(settings: Settings, method: str, rule: str | None, key: str | None) -> tuple[Scope, str]:
    """authorize, given the settings (outside a request context too)."""
    if not settings.auth_enabled:
        return ADMIN, DEFAULT
    needed = required_scope(method, rule)
    found = key_of(settings.api_keys, key) if key else None
    if needed is OPEN:
        return (found.scope, found.tenant) if found else (OPEN, DEFAULT)
    if found is None:
        message = "an API key is required" if key is None else "unknown API key"
        raise APIError(
            401,
            "unauthorized",
            f"{message}: send Authorization: Bearer <key> or X-API-Key: <key>",
            headers={"WWW-Authenticate": 'Bearer realm="recsys"'},
        )
    scope = found.scope
    if (method, rule) in METRICS_ROUTES and found.tenant != DEFAULT:
        # The process's counters add up every tenant's traffic.
        raise APIError(403, "forbidden", "/metrics covers every tenant: use a default tenant key")
    if scope is Scope.METRICS and (method, rule) in METRICS_ROUTES:
        return scope, found.tenant
    if scope < needed:
        raise APIError(
            403, "forbidden", f"this call needs a {needed.label} key; this key is {scope.label}"
        )
    return scope, found.tenant


async def enter(tenant: str) -> None:
    """Point this request at its tenant's shop; 401 once the tenant is gone."""
    try:
        g.shop = await deps.shops().get(tenant)
    except UnknownTenant:
        raise APIError(401, "unauthorized", deps.unknown_tenant(tenant)) from None
    if g.shop.pool.down and (gone := await deps.tenant_gone()):
        raise APIError(401, "unauthorized", deps.unknown_tenant(gone))


def token_secret() -> bytes:
    """The secret that signs this tenant's socket tokens (from a random
    per-process one when auth is off)."""
    base: bytes = current_app.extensions["recsys.token_secret"]
    return tenant_secret(base, deps.shop().tenant)


def register(app: Quart) -> None:
    settings = app.extensions["recsys.settings"]

    @app.before_request
    async def check_request() -> None:
        if not settings.auth_enabled:
            g.scope = ADMIN  # what authorize answers with auth off, without its work
            return
        req = request._get_current_object()  # type: ignore[attr-defined]
        url_rule = req.url_rule
        rule = url_rule.rule if url_rule is not None else None
        headers = req.headers
        key = presented_key(headers.get("Authorization", ""), headers.get("X-API-Key", ""))
        g.scope, tenant = authorize(req.method, rule, key)
        await enter(tenant)

    @app.before_websocket
    async def check_websocket() -> None:
        rule = websocket.url_rule.rule if websocket.url_rule else None
        headers = websocket.headers
        key = presented_key(
            headers.get("Authorization", ""),
            headers.get("X-API-Key", ""),
            websocket.args.get("api_key"),
        )
        g.scope, tenant = authorize("GET", rule, key)
        await enter(tenant)


def socket_access(scope: Scope) -> Access:
    """What a socket handshaken with `scope` must prove when it registers a user."""
    return access_for(deps.settings().auth_enabled, scope, token_secret())
