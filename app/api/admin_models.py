"""Shapes of the dashboard's JSON; rows keep the views' columns (docs/operations.md)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

Row = dict[str, Any]


class Overview(BaseModel):
    tenant: str = Field(description="whose shop these figures are: the key's tenant")
    counts: Row = Field(description="items, users, last_event_id, lists_estimate")
    active_users: dict[str, int] = Field(description="last_5_minutes, last_hour, last_day")
    funnel: Row = Field(description="views, add_to_carts, purchases and the step rates")
    daily_activity: list[Row] = Field(description="rows of recsys.daily_activity, oldest first")
    top_items: list[Row] = Field(description="rows of recsys.item_funnel, most users first")


class EventsPerMinute(BaseModel):
    minutes: list[Row] = Field(description="minute, event_type, events")


class LoopRows(BaseModel):
    by: str
    rows: list[Row] = Field(description="rows of recsys.loop_by_<by>")


class Runs(BaseModel):
    runs: list[Row] = Field(description="rows of recsys.model_runs, newest first")


class ActivatedRun(BaseModel):
    id: int
    kind: str
    role: str = Field(description="the role whose active model it is now")


class Settings(BaseModel):
    tunables: Row = Field(description="recsys.settings")
    service: Row = Field(description="this process's settings, no secrets")
    strategies: list[Row]


class Strategies(BaseModel):
    strategies: list[Row] = Field(description="name, case, method, needs, summary")
