"""Recording events: one at a time (answered with fresh recommendations) or in batches."""

from __future__ import annotations

from psycopg import errors as pg
from pydantic import ValidationError
from quart import Blueprint, request
from quart_schema import (
    RequestSchemaValidationError,
    document_request,
    validate_request,
    validate_response,
)

from app import recommenders
from app.api import deps
from app.api.errors import APIError, db_error_field
from app.api.models import BatchRecorded, EventBatch, EventIn, EventRecorded, Recommendation
from app.db import events as db_events
from app.db import replicas
from app.recommenders.base import Query

bp = Blueprint("events", __name__)


def to_new_event(event: EventIn) -> db_events.NewEvent:
    return db_events.NewEvent(
        user_id=event.user_id,
        product_id=event.product_id,
        event_type=event.event_type,
        value=event.value,
        timestamp=event.timestamp,
        event_id=event.event_id,
        recomm_id=None if event.recomm_id is None else str(event.recomm_id),
    )


@bp.post("/event")
@validate_request(EventIn)
@validate_response(EventRecorded, 201)
@validate_response(EventRecorded, 200)
async def record_event(data: EventIn) -> tuple[EventRecorded, int]:
    """Record one event and answer with the user's fresh recommendations.

    The event and every count it changes commit before the recommendations are
    read, so an item the user just purchased never comes back. A repeated
    `event_id` is stored once and answered with 200 and status `duplicate`.
    The answer's list is logged in recsys.exposures under its `recomm_id`.
    """
    reads = deps.reads()
    async with deps.connection() as conn:
        result = await db_events.insert_events(conn, [to_new_event(data)])
        await conn.commit()
        # A replica answers once it has replayed this commit (app/db/replicas.py).
        lsn = await replicas.wal_lsn(conn) if reads.replicated else None
    deps.count_events([data.event_type], result.duplicates)
    query = Query(user_id=data.user_id)
    exposure = deps.exposure("event")
    served = await recommenders.serve_read(reads, recommenders.DEFAULT, query, exposure, lsn)
    deps.count_list(recommenders.DEFAULT, "event")
    duplicate = result.inserted == 0
    body = EventRecorded(
        status="duplicate" if duplicate else "recorded",
        user_id=data.user_id,
        recomm_id=served.recomm_id,
        recommendations=[Recommendation(**r.__dict__) for r in served.recommendations],
    )
    return body, 200 if duplicate else 201


@bp.post("/events")
@document_request(EventBatch)
@validate_response(BatchRecorded, 201)
async def record_events() -> tuple[BatchRecorded, int]:
    """Record a batch of events in one transaction: all or nothing.

    At most REC_MAX_BATCH events; larger batches get 413.
    Events whose `event_id` was seen before count as duplicates and are not stored again.
    """
    data = await parse_batch()
    limit = deps.settings().max_batch
    if len(data.events) > limit:
        raise APIError(413, "batch_too_large", f"a batch holds at most {limit} events")
    if not data.events:
        raise APIError(400, "invalid_request", "events must not be empty", {"events": "empty"})
    try:
        async with deps.connection() as conn:
            result = await db_events.insert_events(conn, [to_new_event(e) for e in data.events])
    except pg.InvalidParameterValue as error:
        fields = db_error_field(error, prefix="events")
        raise APIError(400, "invalid_request", error.diag.message_primary or "", fields) from None
    deps.count_events([e.event_type for e in data.events], result.duplicates)
    return BatchRecorded(inserted=result.inserted, duplicates=result.duplicates), 201


async def parse_batch() -> EventBatch:
    # Parsing and validating the raw bytes in one pass (pydantic-core) instead of
    # json.loads + model_validate halves the per-batch overhead of 5 000 events.
    try:
        return EventBatch.model_validate_json(await request.get_data())
    except ValidationError as error:
        raise RequestSchemaValidationError(error) from None
