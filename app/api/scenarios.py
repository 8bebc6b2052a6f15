"""Scenarios: saved settings of one placement (GET /scenarios; admin PUT, DELETE)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from quart import Blueprint
from quart_schema import validate_request, validate_response

from app.api import deps
from app.api.errors import APIError
from app.api.models import Case, Method
from app.config import MAX_K
from app.db import scenarios as db_scenarios
from app.db.scenarios import Scenario

bp = Blueprint("scenarios", __name__)


class ScenarioIn(BaseModel):
    """What GET /recommend?scenario=NAME applies; a request's own parameters win."""

    model_config = ConfigDict(extra="forbid")

    case: Case = Field(description="the strategy, as GET /recommend's `case`")
    method: Method | None = Field(None, description="hybrid only; default adaptive")
    rules: dict[str, Any] | None = Field(
        None, description="business rules (docs/rules.md): filter, boost, bury, pin, promote"
    )
    diversity: float = Field(0.0, ge=0, le=1)
    max_per_category: int | None = Field(None, ge=1, le=MAX_K)
    rotation: float = Field(0.0, ge=0, le=1)
    k: int | None = Field(None, ge=1, le=MAX_K, description="the list's length; default 10")
    fallback: list[Case] = Field(
        default_factory=list,
        max_length=5,
        description="strategies whose own items follow when `case` runs short",
    )
    description: str | None = Field(None, max_length=1000)


class ScenarioOut(ScenarioIn):
    name: str
    created_at: datetime
    updated_at: datetime


class Scenarios(BaseModel):
    scenarios: list[ScenarioOut]


def out(scenario: Scenario) -> ScenarioOut:
    fields = {**scenario.__dict__, "case": scenario.case_name}
    del fields["case_name"]
    return ScenarioOut(**fields)


@bp.get("/scenarios")
@validate_response(Scenarios)
async def list_scenarios() -> Scenarios:
    """Every scenario, by name."""
    async with deps.connection() as conn:
        rows = await db_scenarios.list_all(conn)
    return Scenarios(scenarios=[out(s) for s in rows])


@bp.get("/scenarios/<name>")
@validate_response(ScenarioOut)
async def get_scenario(name: str) -> ScenarioOut:
    async with deps.connection() as conn:
        scenario = await db_scenarios.get(conn, name)
    if scenario is None:
        raise APIError(404, "not_found", f"unknown scenario {name!r}", {"name": "unknown"})
    return out(scenario)


@bp.put("/admin/scenarios/<name>")
@validate_request(ScenarioIn)
@validate_response(ScenarioOut, 200)
@validate_response(ScenarioOut, 201)
async def put_scenario(name: str, data: ScenarioIn) -> tuple[ScenarioOut, int]:
    """Create (201) or replace (200) a scenario; its rules are compiled first,
    so a malformed one is a 400 naming the bad node's path."""
    fields = data.model_dump()
    scenario = Scenario(name=name, case_name=fields.pop("case"), **fields)
    async with deps.connection() as conn:
        saved, created = await db_scenarios.put(conn, scenario)
    return out(saved), 201 if created else 200


@bp.delete("/admin/scenarios/<name>")
async def drop_scenario(name: str) -> tuple[str, int]:
    async with deps.connection() as conn:
        dropped = await db_scenarios.drop(conn, name)
    if not dropped:
        raise APIError(404, "not_found", f"unknown scenario {name!r}", {"name": "unknown"})
    return "", 204
