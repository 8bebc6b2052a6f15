"""The OpenAPI document: quart-schema's, plus the errors every route can answer
and the keys it needs, so /openapi.json describes every response the app sends."""

from __future__ import annotations

import copy
from typing import Any

from quart_schema import OpenAPIProvider
from werkzeug.routing import Rule

from app.api.auth import OPEN, required_scope
from app.api.errors import ErrorBody

BAD_INPUT = "bad input; `fields` names each problem"
NOT_FOUND = "unknown id"
LONG_REQUEST_LINE = "the request line or headers exceed the server's limit (16 KiB)"
# An operation taking one of these, in the path or the query, may answer 404.
ID_PARAMETERS = {"product_id", "user_id"}

# Errors particular to one route, beyond those every route of its kind answers.
ROUTE_ERRORS: dict[tuple[str, str], dict[int, str]] = {
    ("GET", "/predict"): {409: "no explicit model trained yet (`recsys train`)"},
    ("GET", "/recommend"): {
        404: "unknown product_id, scenario or experiment",
        409: "the experiment is not running, or its arm's scenario was deleted",
    },
    ("POST", "/recommend"): {
        404: "unknown product_id, scenario or experiment",
        409: "the experiment is not running, or its arm's scenario was deleted",
    },
    ("GET", "/scenarios/<name>"): {404: "unknown scenario"},
    ("POST", "/users/<path:user_id>/merge"): {404: "unknown anonymous user (`from`)"},
    ("PUT", "/admin/scenarios/<name>"): {400: BAD_INPUT},
    ("DELETE", "/admin/scenarios/<name>"): {404: "unknown scenario"},
    ("GET", "/recommend/next"): {
        404: "unknown recomm_id (never served, or pruned by retention)",
        410: "the chain expired: its latest page is older than REC_PAGE_TTL_MINUTES",
    },
    ("PUT", "/admin/event-types/<name>"): {400: BAD_INPUT},
    ("DELETE", "/admin/event-types/<name>"): {
        404: "unknown event type",
        409: "events use this type",
    },
    ("POST", "/admin/experiments"): {409: "an experiment of that name exists"},
    ("GET", "/admin/experiments/<name>"): {404: "unknown experiment"},
    ("POST", "/admin/experiments/<name>/start"): {
        404: "unknown experiment",
        409: "the experiment is stopped",
    },
    ("POST", "/admin/experiments/<name>/stop"): {
        404: "unknown experiment",
        409: "the experiment has not started",
    },
    ("GET", "/admin/experiments/<name>/report"): {404: "unknown experiment"},
    ("POST", "/admin/models/<int:run_id>/activate"): {
        404: "unknown model run",
        409: "the run is not ready (training or failed)",
    },
}

# Success responses that are not a JSON model, so quart-schema cannot know them.
HTML = {"content": {"text/html": {"schema": {"type": "string"}}}}
ROUTE_SUCCESS: dict[tuple[str, str], dict[int, dict[str, Any]]] = {
    ("GET", "/demo/realtime"): {200: {**HTML, "description": "the demo page"}},
    ("DELETE", "/admin/event-types/<name>"): {204: {"description": "deleted"}},
    ("DELETE", "/admin/scenarios/<name>"): {204: {"description": "deleted"}},
}


def error_statuses(method: str, rule: str, operation: dict[str, Any]) -> dict[int, str]:
    statuses: dict[int, str] = {}
    scope = required_scope(method, rule)
    if scope is not OPEN:
        statuses[401] = "no API key, or an unknown one (when REC_API_KEYS is set)"
        statuses[403] = f"the key's scope is weaker than {scope.label}"
    if operation.get("parameters") or "requestBody" in operation:
        statuses[400] = BAD_INPUT
    if ID_PARAMETERS & {parameter["name"] for parameter in operation.get("parameters", [])}:
        statuses[404] = NOT_FOUND
    if "requestBody" in operation:
        statuses[413] = "the body exceeds REC_MAX_BODY_BYTES, or the batch its limit"
    statuses.update(ROUTE_ERRORS.get((method, rule), {}))
    if scope is not OPEN or rule == "/health":
        statuses[503] = "the database is not reachable"
    return statuses


class Provider(OpenAPIProvider):
    SECURITY_SCHEMES: dict[str, Any] = {  # noqa: RUF012 (read by QuartSchema once)
        "bearer": {"type": "http", "scheme": "bearer"},
        "apiKey": {"type": "apiKey", "in_": "header", "name": "X-API-Key"},
    }

    def build_paths(self, rule: Rule) -> tuple[dict[str, Any], dict[str, Any]]:
        paths, components = super().build_paths(rule)
        error, definitions = self.build_response_object(ErrorBody, None)
        for operations in paths.values():
            for method, shared in list(operations.items()):
                operation = copy.deepcopy(shared)
                self._document(method.upper(), rule.rule, operation, error)
                operations[method] = operation
        components.update(definitions)
        return paths, components

    def _document(
        self, method: str, rule: str, operation: dict[str, Any], error: dict[str, Any]
    ) -> None:
        for status, response in ROUTE_SUCCESS.get((method, rule), {}).items():
            operation["responses"].setdefault(status, response)
        for status, description in error_statuses(method, rule, operation).items():
            operation["responses"].setdefault(status, {**error, "description": description})
        if operation.get("parameters"):
            # Hypercorn answers this, empty, before the app sees the request.
            operation["responses"].setdefault(431, {"description": LONG_REQUEST_LINE})
        if required_scope(method, rule) is OPEN:
            operation["security"] = []
        else:
            operation["security"] = [{"bearer": []}, {"apiKey": []}]
