"""One JSON error format for everything: {"error": {code, message, fields}}."""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from psycopg import errors as pg
from psycopg_pool import PoolTimeout
from pydantic import BaseModel, Field, ValidationError
from quart import Quart, Response, current_app, jsonify
from quart_schema import RequestSchemaValidationError
from werkzeug.exceptions import HTTPException

from app.api import deps

log = logging.getLogger(__name__)


class APIError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.headers = headers or {}


class ErrorDetail(BaseModel):
    code: str = Field(description="machine-readable, e.g. invalid_request, unauthorized")
    message: str = Field(description="what went wrong, naming the field or limit")
    fields: dict[str, str] = Field(description="field -> problem, for bad input")


class ErrorBody(BaseModel):
    """Every error: 4xx for the caller's mistakes, 503 when the database is down."""

    error: ErrorDetail


def error_response(
    status: int, code: str, message: str, fields: dict[str, str] | None = None
) -> tuple[Response, int]:
    body = {"code": code, "message": message, "fields": fields or {}}
    return jsonify({"error": body}), status


def pydantic_fields(error: ValidationError) -> dict[str, str]:
    fields = {}
    for item in error.errors():
        loc = ".".join(str(part) for part in item["loc"]) or "body"
        fields[loc] = item["msg"]
    return fields


def db_error_field(error: psycopg.Error, prefix: str = "") -> dict[str, str]:
    """The field a database check rejected, as `column`, or `prefix.<index>.column`
    when the check reports the batch index in its detail."""
    field = error.diag.column_name or "request"
    index = error.diag.message_detail
    if prefix and index is not None:
        field = f"{prefix}.{index}.{field}"
    return {field: error.diag.message_primary or str(error)}


def register(app: Quart) -> None:
    @app.errorhandler(APIError)
    async def api_error(error: APIError) -> Any:
        response, status = error_response(error.status, error.code, error.message, error.fields)
        response.headers.update(error.headers)
        return response, status

    @app.errorhandler(RequestSchemaValidationError)
    async def invalid_request(error: RequestSchemaValidationError) -> Any:
        cause = error.validation_error
        if isinstance(cause, ValidationError):
            fields = pydantic_fields(cause)
            first = next(iter(fields.items()))
            return error_response(400, "invalid_request", f"{first[0]}: {first[1]}", fields)
        return error_response(400, "invalid_request", "the body must be a JSON object")

    @app.errorhandler(pg.InvalidParameterValue)
    async def invalid_value(error: pg.InvalidParameterValue) -> Any:
        message = error.diag.message_primary or "invalid value"
        return error_response(400, "invalid_request", message, db_error_field(error))

    @app.errorhandler(pg.DataError)
    async def bad_data(error: pg.DataError) -> Any:
        # A value the database cannot store (a number beyond float4, say): the
        # caller's input, so 400 rather than 500; nothing was committed.
        message = error.diag.message_primary or "invalid value"
        return error_response(400, "invalid_request", message, db_error_field(error))

    @app.errorhandler(pg.NoDataFound)
    async def not_found(error: pg.NoDataFound) -> Any:
        message = error.diag.message_primary or "not found"
        return error_response(404, "not_found", message, db_error_field(error))

    @app.errorhandler(pg.ObjectNotInPrerequisiteState)
    async def not_ready(error: pg.ObjectNotInPrerequisiteState) -> Any:
        message = error.diag.message_primary or "not ready"
        if error.diag.message_hint:
            message += f"; {error.diag.message_hint}"
        return error_response(409, "not_ready", message, db_error_field(error))

    @app.errorhandler(PoolTimeout)
    @app.errorhandler(psycopg.OperationalError)
    async def unavailable(error: Exception) -> Any:
        if gone := await deps.tenant_gone():
            return error_response(401, "unauthorized", deps.unknown_tenant(gone))
        log.warning("database unavailable: %s", error)
        return error_response(503, "database_unavailable", "the database is not reachable")

    @app.errorhandler(UnicodeDecodeError)
    async def not_utf8(error: UnicodeDecodeError) -> Any:
        return error_response(400, "malformed_request", "the body is not UTF-8")

    @app.errorhandler(HTTPException)
    async def http_error(error: HTTPException) -> Any:
        code = (error.name or "error").lower().replace(" ", "_")
        if error.code == 400:
            return error_response(400, "malformed_request", "the body is not valid JSON")
        if error.code == 413:
            limit = current_app.config["MAX_CONTENT_LENGTH"]
            message = f"the body exceeds {limit} bytes (REC_MAX_BODY_BYTES)"
            return error_response(413, "body_too_large", message)
        response, status = error_response(error.code or 500, code, error.description or code)
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value  # e.g. Allow on 405
        return response, status

    @app.errorhandler(Exception)
    async def internal(error: Exception) -> Any:
        log.exception("unhandled error")
        return error_response(500, "internal_error", "internal error; see the server log")
