"""Around every HTTP request: its id (X-Request-ID in, or made up; echoed out),
the access log line, and the request counters and latency histogram."""

from __future__ import annotations

import logging
import re
import time
import uuid

from quart import Quart, Response, g, request

from app import logs
from app.metrics.instruments import Metrics

log = logging.getLogger(logs.ACCESS)

HEADER = "X-Request-ID"
# A caller's id is kept when it is short and plain (it lands in logs verbatim).
VALID_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")
# Routes of requests no rule matched (404s, scanners): one label, not one per path.
UNMATCHED = "<unmatched>"


def incoming_id() -> str:
    given = request.headers.get(HEADER, "").strip()
    return given if VALID_ID.fullmatch(given) else uuid.uuid4().hex


def register(app: Quart, metrics: Metrics | None) -> None:
    """Before every other hook, so a request refused by auth is logged and counted."""

    @app.before_request
    async def begin() -> None:
        g.started = time.perf_counter()
        g.request_id = incoming_id()
        logs.request_id.set(g.request_id)

    @app.after_request
    async def finish(response: Response) -> Response:
        seconds = time.perf_counter() - g.get("started", time.perf_counter())
        rid = g.get("request_id") or incoming_id()
        response.headers[HEADER] = rid
        route = request.url_rule.rule if request.url_rule else UNMATCHED
        if metrics is not None:
            metrics.request_done(route, request.method, response.status_code, seconds)
        if log.isEnabledFor(logging.INFO):
            access_line(response.status_code, route, seconds, rid)
        return response


def access_line(status: int, route: str, seconds: float, rid: str) -> None:
    ms = round(seconds * 1000, 2)
    log.info(
        "%s %s %d %.2fms request_id=%s",
        request.method,
        request.full_path.rstrip("?"),
        status,
        ms,
        rid,
        extra={
            "request_id": rid,
            "method": request.method,
            "path": request.path,
            "route": route,
            "status": status,
            "duration_ms": ms,
            "remote": request.remote_addr,
        },
    )
