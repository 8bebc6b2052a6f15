"""Admin: event types as data (GET, PUT, DELETE /admin/event-types)."""

from __future__ import annotations

import re
from typing import Literal

from psycopg import errors as pg
from pydantic import BaseModel, ConfigDict, Field, model_validator
from quart import Blueprint
from quart_schema import validate_request, validate_response

from app.api import deps
from app.api.errors import APIError
from app.config import MAX_EVENT_TYPE
from app.db import event_types as db_types

bp = Blueprint("event_types", __name__)

NAME = rf"^[a-z][a-z0-9_]{{0,{MAX_EVENT_TYPE - 1}}}$"


class EventTypeIn(BaseModel):
    """What an event of this type means."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["positive", "negative", "neutral"] = Field(
        "positive",
        description="positive: a preference (interactions, co-occurrence, popularity);"
        " negative: never offer the item to that user again and demote its neighbours;"
        " neutral: counted only",
    )
    weight: float = Field(
        1.0,
        ge=0,
        le=1e6,
        allow_inf_nan=False,
        description="positive: the event's weight in scores and popularity; negative: how"
        " strongly its item's neighbours are demoted (0: excluded only)",
    )
    uses_value: bool = Field(False, description="events need a value, which multiplies the weight")
    conversion: bool = Field(
        False, description="a purchase: never offered again; counted as a conversion"
    )

    @model_validator(mode="after")
    def conversions_are_positive(self) -> EventTypeIn:
        if self.conversion and self.kind != "positive":
            raise ValueError("only a positive type can be a conversion")
        return self


class EventType(EventTypeIn):
    name: str
    events: int = Field(description="events of this type stored now")


class EventTypes(BaseModel):
    event_types: list[EventType]


class EventTypePut(BaseModel):
    name: str
    created: bool
    rebuilt_users: int = Field(
        description="users whose interactions, rejections and pairs were rebuilt because"
        " their events of this type changed meaning"
    )


@bp.get("/admin/event-types")
@validate_response(EventTypes)
async def list_types() -> EventTypes:
    """Every event type and how many events use it."""
    async with deps.connection() as conn:
        rows = await db_types.list_types(conn)
    return EventTypes(event_types=[EventType(**row) for row in rows])


@bp.put("/admin/event-types/<name>")
@validate_request(EventTypeIn)
@validate_response(EventTypePut, 200)
@validate_response(EventTypePut, 201)
async def put_type(name: str, data: EventTypeIn) -> tuple[EventTypePut, int]:
    """Create an event type (201) or change one (200). Changing a type that
    events use rebuilds every aggregate they built, in one transaction, so
    counts and scores describe the events under the new meaning."""
    check_name(name)
    event_type = db_types.EventType(name=name, **data.model_dump())
    async with deps.connection() as conn:
        put = await db_types.put_type(conn, event_type)
    return EventTypePut(name=name, **put.__dict__), 201 if put.created else 200


@bp.delete("/admin/event-types/<name>")
async def drop_type(name: str) -> tuple[str, int]:
    """Delete an event type no event uses (409 while events use it)."""
    try:
        async with deps.connection() as conn:
            dropped = await db_types.drop_type(conn, name)
    except pg.DependentObjectsStillExist as error:
        message = f"{error.diag.message_primary}; {error.diag.message_hint}"
        raise APIError(409, "in_use", message, {"name": "in use"}) from None
    if not dropped:
        raise APIError(404, "not_found", f"unknown event type {name!r}", {"name": "unknown"})
    return "", 204


def check_name(name: str) -> None:
    if not re.fullmatch(NAME, name):
        raise APIError(
            400,
            "invalid_request",
            f"an event type's name is lowercase letters, digits and _, starting with a letter,"
            f" at most {MAX_EVENT_TYPE} characters; got {name!r}",
            {"name": "invalid"},
        )
