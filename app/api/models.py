"""Request and response shapes; their docs become the OpenAPI schema."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from app import recommenders
from app.config import DEFAULT_K, MAX_BATCH, MAX_EVENT_TYPE, MAX_EXCLUDE, MAX_ID, MAX_K, MAX_PAGE
from app.recommenders.base import Query

if TYPE_CHECKING:
    Case = str
    Method = str
else:
    # Literal[a, b, ...] from the one list: validation and the OpenAPI enum.
    Case = Literal[recommenders.NAMES]
    Method = Literal[recommenders.METHODS]


def _to_text(value: Any) -> Any:
    # External ids are text; JSON integers are accepted and normalised.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        # The documented limit is on what the client sent: surrounding blanks
        # are trimmed, but never let an over-long value through.
        if len(value) > MAX_ID:
            raise ValueError(f"at most {MAX_ID} characters")
        return value.strip()
    return value


def _json_object(value: Any) -> Any:
    # A query string carries JSON as text.
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValueError("must be a JSON object") from None
    if value is not None and not isinstance(value, dict):
        raise ValueError("must be a JSON object")
    return value


def _utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


ExternalId = Annotated[str, BeforeValidator(_to_text), Field(min_length=1, max_length=MAX_ID)]
Timestamp = Annotated[datetime | None, AfterValidator(_utc)]


class EventIn(BaseModel):
    """One interaction of a user with an item."""

    model_config = ConfigDict(extra="ignore")

    user_id: ExternalId
    product_id: ExternalId
    event_type: str = Field(
        min_length=1,
        max_length=MAX_EVENT_TYPE,
        description="a name of recsys.event_types (GET /admin/event-types): view, add_to_cart,"
        " purchase, rating, dislike, hide, or one added since",
    )
    value: float | None = Field(
        None, allow_inf_nan=False, ge=-1e9, le=1e9, description="required for rating"
    )
    timestamp: Timestamp = Field(None, description="ISO 8601 or Unix seconds; default now")
    event_id: ExternalId | None = Field(None, description="idempotency key: stored once")
    recomm_id: UUID | None = Field(
        None,
        description="the served list this event answers; without it, a positive event on an"
        " item shown to the user in the attribution window (24 h) is credited to the latest"
        " list that held it",
    )


class EventBatch(BaseModel):
    events: list[EventIn] = Field(
        description=f"at most REC_MAX_BATCH ({MAX_BATCH:,} by default) events"
    )


class Recommendation(BaseModel):
    product_id: str
    score: float
    reason: str


RECOMM_ID = "the list's key in recsys.exposures: send it with events, or to GET /recommend/next"


class EventRecorded(BaseModel):
    status: Literal["recorded", "duplicate"]
    user_id: str
    recomm_id: str = Field(description=RECOMM_ID)
    recommendations: list[Recommendation]


class BatchRecorded(BaseModel):
    inserted: int
    duplicates: int


class RecommendArgs(BaseModel):
    """Query string of the recommendation endpoints."""

    user_id: ExternalId | None = None
    case: Case = Field(
        recommenders.DEFAULT,
        description="; ".join(f"{s.name}: {s.summary}" for s in recommenders.STRATEGIES),
    )
    product_id: ExternalId | None = None
    method: Method | None = Field(None, description="hybrid only; adaptive by default")
    k: int = Field(DEFAULT_K, ge=1, le=MAX_K)
    exclude: str | None = Field(
        None, max_length=MAX_EXCLUDE, description="comma-separated product ids"
    )
    category: str | None = Field(None, min_length=1, max_length=MAX_ID)
    attributes: Annotated[dict[str, Any] | None, BeforeValidator(_json_object)] = Field(
        None,
        description="content_based: only items whose attributes contain this JSON object,"
        ' e.g. {"color": "red"}',
    )
    rotation: float = Field(
        0.0,
        ge=0,
        le=1,
        description="demote items shown to this user in the last 7 days that they did not touch:"
        " 0 off, 1 shown items only after every fresh one",
    )
    experiment: str | None = Field(
        None,
        min_length=1,
        max_length=MAX_ID,
        description="a running experiment: its arm for this user decides the list (overrides"
        " case, method and the arm's parameters)",
    )
    scenario: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        description="a saved scenario (GET /scenarios): its case, rules, diversity, rotation, k"
        " and fallbacks, each overridden by the parameter of the same name given here",
    )
    rules: Annotated[dict[str, Any] | None, BeforeValidator(_json_object)] = Field(
        None,
        description="business rules as JSON (docs/rules.md): filter, boost, bury, pin, promote,"
        ' exclude_purchased; e.g. {"filter": {"field": "attributes.in_stock", "op": "=",'
        ' "value": true}}',
    )
    diversity: float = Field(
        0.0,
        ge=0,
        le=1,
        description="0 off; up to 1: re-rank by maximal marginal relevance over the items'"
        " content embeddings, trading relevance for variety",
    )
    max_per_category: int | None = Field(
        None, ge=1, le=MAX_K, description="at most this many items of one category in the list"
    )

    def to_query(self) -> Query:
        return Query(
            user_id=self.user_id,
            product_id=self.product_id,
            k=self.k,
            exclude=split_ids(self.exclude),
            category=self.category,
            method=self.method,
            attributes=self.attributes,
            rotation=self.rotation,
            rules=self.rules,
            diversity=self.diversity,
            max_per_category=self.max_per_category,
        )


def split_ids(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


class RealtimeArgs(BaseModel):
    user_id: ExternalId
    product_id: ExternalId | None = None
    event_type: str = Field("view", min_length=1, max_length=MAX_EVENT_TYPE)
    k: int = Field(DEFAULT_K, ge=1, le=MAX_K)


class ListArgs(BaseModel):
    k: int = Field(DEFAULT_K, ge=1, le=MAX_K)
    exclude: str | None = Field(None, max_length=MAX_EXCLUDE)
    category: str | None = Field(None, min_length=1, max_length=MAX_ID)


class SimilarArgs(ListArgs):
    by: Literal["cooccurrence", "content"] = Field(
        "cooccurrence",
        description="cooccurrence: chosen by the same users; content: nearest content embeddings",
    )


class ThenBoughtArgs(ListArgs):
    after: str = Field(
        "view",
        min_length=1,
        max_length=MAX_EVENT_TYPE,
        description="the event type that leads to the purchase: view or add_to_cart",
    )


class SessionStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: ExternalId
    event_type: str = Field("view", min_length=1, max_length=MAX_EVENT_TYPE)


class SessionIn(BaseModel):
    """An anonymous visitor's session: no user row is needed or made."""

    model_config = ConfigDict(extra="forbid")

    items: list[SessionStep] = Field(
        min_length=1, max_length=100, description="what the visitor did, oldest first"
    )
    session_id: ExternalId | None = Field(
        None,
        description="the visitor's anonymous id: the list is logged under it, so events"
        " sent with it are credited, and POST /users/{id}/merge carries them over at login",
    )
    k: int = Field(DEFAULT_K, ge=1, le=MAX_K)
    exclude: list[ExternalId] = Field(default_factory=list, max_length=MAX_K * 10)
    category: str | None = Field(None, min_length=1, max_length=MAX_ID)


class NextArgs(BaseModel):
    recomm_id: UUID = Field(description="the recomm_id of the page before")
    k: int | None = Field(None, ge=1, le=MAX_K, description="default: the first page's k")


class Recommendations(BaseModel):
    user_id: str | None = None
    product_id: str | None = None
    case: str
    method: str | None = Field(None, description="hybrid: adaptive or switching")
    recomm_id: str = Field(description=RECOMM_ID)
    experiment: str | None = Field(None, description="the experiment that chose this list")
    arm: str | None = Field(
        None, description="the user's arm (A/B); interleaving: null, each item's arm is logged"
    )
    page: int = Field(1, description="1 for a first list; GET /recommend/next counts on")
    scenario: str | None = Field(None, description="the scenario whose settings made this list")
    recommendations: list[Recommendation]


class ItemIn(BaseModel):
    """An item's metadata; PUT replaces all of it."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, max_length=1000)
    description: str | None = Field(None, max_length=20_000)
    categories: list[Annotated[str, Field(min_length=1, max_length=MAX_ID)]] = Field(
        default_factory=list, max_length=100
    )
    attributes: dict[str, Any] = Field(default_factory=dict)
    available: bool = True
    available_from: AwareDatetime | None = Field(
        None, description="served from this time on (inclusive); none: already"
    )
    expires_at: AwareDatetime | None = Field(
        None, description="served until this time (exclusive); none: no end"
    )

    @model_validator(mode="after")
    def _window(self) -> ItemIn:
        if self.available_from and self.expires_at and self.expires_at <= self.available_from:
            raise ValueError("expires_at must be later than available_from")
        return self


class ItemWithId(ItemIn):
    product_id: ExternalId


class ItemBatch(BaseModel):
    items: list[ItemWithId]


class ItemListArgs(BaseModel):
    category: str | None = Field(None, min_length=1, max_length=MAX_ID)
    limit: int = Field(50, ge=1, le=MAX_PAGE)
    offset: int = Field(0, ge=0)


class ItemSummary(BaseModel):
    product_id: str
    title: str | None
    categories: list[str]
    available: bool


class ItemList(BaseModel):
    items: list[ItemSummary]


class ItemsUpserted(BaseModel):
    created: int
    updated: int


class Item(BaseModel):
    product_id: str
    title: str | None
    description: str | None
    categories: list[str]
    attributes: dict[str, Any]
    available: bool
    available_from: datetime | None
    expires_at: datetime | None
    live: bool = Field(description="available and inside its window: servable now")
    created_at: datetime
    updated_at: datetime
    users: int
    events: int
    views: int
    add_to_carts: int
    purchases: int
    ratings: int
    counts: dict[str, int] = Field(description="events of every type, by event type name")


class HistoryArgs(BaseModel):
    limit: int = Field(100, ge=1, le=MAX_PAGE)


class HistoryEvent(BaseModel):
    product_id: str
    event_type: str
    value: float | None
    timestamp: datetime
    event_id: str | None


class History(BaseModel):
    user_id: str
    events: list[HistoryEvent]


class Health(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]


class PredictArgs(BaseModel):
    user_id: ExternalId
    product_id: ExternalId


class Prediction(BaseModel):
    user_id: str
    product_id: str
    rating: float = Field(description="clipped to the rating scale of the training data")
    reason: str = Field(description="the model, or which baseline answered and why")
    fallback: bool = Field(description="true when the user or the item is unknown to the model")
    run_id: int = Field(description="the model run (see `recsys models`)")
