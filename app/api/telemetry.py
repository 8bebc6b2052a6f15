"""Around every HTTP request: its id (X-Request-ID in, or made up; echoed out),
the access log line, and the request counters and latency histogram."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from quart import Quart, Response, request

from app import logs
from app.metrics.instruments import Metrics

log = logging.getLogger(logs.ACCESS)

HEADER = "X-Request-ID"
# A caller's id is kept when it is short and plain (it lands in logs verbatim).
VALID_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")
# Routes of requests no rule matched (404s, scanners): one label, not one per path.
UNMATCHED = "<unmatched>"


# Where app/api/fastpath.py leaves the id and start of a request it hands on
# to Quart, so both halves log and time one request.
SCOPE_ID, SCOPE_STARTED = "recsys.request_id", "recsys.started"


def incoming_id(headers: Any = None) -> str:
    return request_id((request.headers if headers is None else headers).get(HEADER, ""))


def request_id(given: str) -> str:
    """The caller's X-Request-ID when it is plain enough to log, else a new one."""
    given = given.strip()
    return given if given and VALID_ID.fullmatch(given) else uuid.uuid4().hex


def register(app: Quart, metrics: Metrics | None) -> None:
    """Before every other hook, so a request refused by auth is logged and counted.

    The hooks read the request object once (each `request.x` goes through
    werkzeug's context-local proxy) and keep their state on it, not on `g`."""

    @app.before_request
    async def begin() -> None:
        req = request._get_current_object()  # type: ignore[attr-defined]
        scope = req.scope
        req.recsys_started = scope.get(SCOPE_STARTED) or time.perf_counter()
        req.recsys_id = rid = scope.get(SCOPE_ID) or incoming_id(req.headers)
        logs.request_id.set(rid)

    @app.after_request
    async def finish(response: Response) -> Response:
        req = request._get_current_object()  # type: ignore[attr-defined]
        now = time.perf_counter()
        seconds = now - getattr(req, "recsys_started", now)
        rid = getattr(req, "recsys_id", None) or incoming_id(req.headers)
        response.headers[HEADER] = rid
        rule = req.url_rule
        route = rule.rule if rule is not None else UNMATCHED
        record(metrics, req, route, response.status_code, seconds, rid)
        return response


def record(
    metrics: Metrics | None, req: Any, route: str, status: int, seconds: float, rid: str
) -> None:
    """A finished request's counters and access line; `req` has Quart's
    method, path, query_string and remote_addr."""
    if metrics is not None:
        metrics.request_done(route, req.method, status, seconds)
    if log.isEnabledFor(logging.INFO):
        access_line(req, status, route, seconds, rid)


def access_line(req: Any, status: int, route: str, seconds: float, rid: str) -> None:
    ms = round(seconds * 1000, 2)
    method, path = req.method, req.path
    query = req.query_string
    log.info(
        "%s %s %d %.2fms request_id=%s",
        method,
        # werkzeug's full_path, without its trailing "?" (as before)
        f"{path}?{query.decode()}".rstrip("?"),
        status,
        ms,
        rid,
        extra={
            "request_id": rid,
            "method": method,
            "path": path,
            "route": route,
            "status": status,
            "duration_ms": ms,
            "remote": req.remote_addr,
        },
    )
