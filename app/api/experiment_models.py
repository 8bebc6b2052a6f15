"""Shapes of the admin experiment API; their docs become the OpenAPI schema.
app/experiments/store.py validates meaning (and the CLI goes through it too);
these models check types and document the enums."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app import recommenders
from app.experiments import store

if TYPE_CHECKING:
    # Not at run time: report imports scipy.stats, a second at every start of `recsys`.
    from app.experiments import report

    Case = str
    Method = str
else:
    Case = Literal[recommenders.NAMES]
    Method = Literal[recommenders.METHODS]

NAME_PATTERN = f"^{store.NAME.pattern}$"
Mode = Literal["ab", "interleave"]


class ArmIn(BaseModel):
    """One arm: a strategy with its method and the request parameters it fixes."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN, description="e.g. control, treatment")
    case: Case = Field(description="the strategy, as GET /recommend's `case`")
    method: Method | None = Field(None, description="hybrid only; default adaptive")
    params: dict[str, Any] = Field(
        default_factory=dict, description="`category` (text), `rotation` (0..1)"
    )
    share: float = Field(
        1.0,
        gt=0,
        le=store.MAX_SHARE,
        allow_inf_nan=False,
        description="relative share of users (A/B)",
    )


class ExperimentIn(BaseModel):
    """A new experiment; the first arm is the control."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN, description="unique; letters, digits, _ and -")
    mode: Mode = Field(description="ab: each user sees one arm; interleave: two arms per list")
    description: str = Field("", max_length=store.MAX_DESCRIPTION)
    arms: list[ArmIn] = Field(min_length=2, description="at least 2; interleave: exactly 2")
    start: bool = Field(False, description="start at once (status running)")

    def definition(self) -> store.Definition:
        arms = tuple(store.ArmSpec(**arm.model_dump()) for arm in self.arms)
        return store.Definition(self.name, self.mode, arms, self.description)


class ArmOut(BaseModel):
    name: str
    case: str
    method: str | None
    params: dict[str, Any]
    share: float


class ExperimentOut(BaseModel):
    name: str
    mode: Mode
    description: str
    status: Literal["draft", "running", "stopped"]
    created_at: datetime
    started_at: datetime | None
    stopped_at: datetime | None
    arms: list[ArmOut] = Field(description="in position order: the first is the control")

    @classmethod
    def of(cls, experiment: store.Experiment) -> ExperimentOut:
        return cls.model_validate(experiment, from_attributes=True)


class ExperimentList(BaseModel):
    experiments: list[ExperimentOut] = Field(description="newest first")


class ArmFiguresOut(BaseModel):
    name: str
    position: int = Field(description="1: the control")
    case: str
    method: str | None
    users: int = Field(description="users shown the arm (interleaving: its items)")
    lists: int
    impressions: int = Field(description="items shown (interleaving: placed by the arm)")
    clicks: int = Field(description="impressions with a positive event of the list's user")
    conversions: int = Field(description="impressions with a conversion event")
    users_clicked: int
    users_converted: int
    ctr: float | None = Field(description="clicks / impressions (descriptive)")
    user_click_rate: float | None = Field(description="users_clicked / users (tested)")
    user_conversion_rate: float | None
    wins: int | None = Field(description="interleaving: users whose clicks favoured the arm")


class UpliftOut(BaseModel):
    control: float | None
    rate: float | None
    difference: float | None = Field(description="rate - control, absolute")
    low: float | None = Field(description="95% Wald interval of the difference")
    high: float | None
    relative: float | None = Field(description="difference / control")
    p_value: float | None = Field(description="two-sided pooled two-proportion z-test")


class ComparisonOut(BaseModel):
    arm: str
    click_rate: UpliftOut
    conversion_rate: UpliftOut


class SignTestOut(BaseModel):
    wins: tuple[int, int] = Field(description="users preferring control, treatment")
    p_value: float | None = Field(description="exact binomial test against 1/2")
    share: float | None = Field(description="the treatment's share of the decided users")
    low: float | None = Field(description="95% Clopper-Pearson interval of the share")
    high: float | None


class ReportOut(BaseModel):
    """Per-arm figures, the tests, and which arm wins at `alpha`."""

    experiment: str
    mode: Mode
    status: str
    started_at: datetime | None
    stopped_at: datetime | None
    arms: list[ArmFiguresOut]
    comparisons: list[ComparisonOut] = Field(description="A/B: each arm against the control")
    interleaving: SignTestOut | None = Field(description="interleaving: the sign test")
    alpha: float
    sample_ratio_p: float | None = Field(
        description="A/B: chi-square p-value of users per arm against the shares;"
        " below 0.001 the verdict warns"
    )
    winner: str | None = Field(description="null: no significant difference")
    verdict: str

    @classmethod
    def of(cls, built: report.Report) -> ReportOut:
        return cls.model_validate(built, from_attributes=True)
