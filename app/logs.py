"""The request log: one line per request, readable text or one JSON object
(REC_LOG_FORMAT), carrying the request id that X-Request-ID brought or that
the service made up."""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

import orjson

ACCESS = "recsys.access"
# The id of the request being handled, for every log line written meanwhile.
request_id: ContextVar[str | None] = ContextVar("recsys_request_id", default=None)

# What an access record carries besides the message (logging's `extra`).
FIELDS = ("method", "path", "route", "status", "duration_ms", "remote")


class RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        line |= {name: getattr(record, name) for name in FIELDS if hasattr(record, name)}
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        rid = getattr(record, "request_id", None)
        return f"{text} request_id={rid}" if rid and record.name != ACCESS else text


def configure(log_format: str) -> None:
    """Route the access log (and, for json, the service's own warnings) to stderr.

    Idempotent: apps built again in one process (tests) replace the handler.
    """
    access = logging.getLogger(ACCESS)
    access.setLevel(logging.INFO if log_format != "off" else logging.CRITICAL + 1)
    access.propagate = False
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestId())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(message)s"))
    for old in [h for h in access.handlers if getattr(h, "recsys", False)]:
        access.removeHandler(old)
    handler.recsys = True  # type: ignore[attr-defined]
    access.addHandler(handler)
    app_log = logging.getLogger("app")
    for old in [h for h in app_log.handlers if getattr(h, "recsys", False)]:
        app_log.removeHandler(old)
    app_log.propagate = True
    if log_format == "json":
        # Errors logged while serving (app.api.errors) become JSON lines too,
        # with the id of the request they belong to.
        app_log.addHandler(handler)
        app_log.propagate = False
