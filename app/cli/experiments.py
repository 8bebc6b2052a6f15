"""`recsys experiments create|list|start|stop|report`: experiments from the shell."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click
import psycopg
from psycopg.rows import dict_row

from app.cli.common import Failure, database
from app.db.pool import Connection
from app.experiments import errors, store

if TYPE_CHECKING:
    from app.experiments import report, stats

T = TypeVar("T")


@click.group()
def experiments() -> None:
    """A/B tests and interleaving of strategies (docs/experiments.md)."""


@experiments.command()
@click.argument("name")
@click.option("--mode", type=click.Choice(store.MODES), default=store.AB, show_default=True)
@click.option(
    "--arm",
    "arms",
    multiple=True,
    required=True,
    metavar="NAME=CASE[:METHOD]",
    help="An arm (repeat; the first is the control), e.g. control=popular,"
    " treatment=hybrid:adaptive.",
)
@click.option("--share", "shares", multiple=True, metavar="ARM=SHARE", help="Relative share.")
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="ARM.KEY=VALUE",
    help="A request parameter the arm fixes: category, rotation (0..1).",
)
@click.option("--description", default="", help="What the experiment tests.")
@click.option("--start", is_flag=True, help="Start it at once.")
def create(
    name: str,
    mode: str,
    arms: tuple[str, ...],
    shares: tuple[str, ...],
    params: tuple[str, ...],
    description: str,
    start: bool,
) -> None:
    """Define experiment NAME (a draft unless --start)."""
    definition = store.Definition(name, mode, parse_arms(arms, shares, params), description)
    made = _run(lambda conn: store.create(conn, definition, start=start))
    click.echo(describe(made))


@experiments.command(name="list")
def list_command() -> None:
    """Every experiment, newest first."""
    found = _run(store.list_all)
    if not found:
        click.echo("no experiments yet; create one with `recsys experiments create`")
    for experiment in found:
        click.echo(describe(experiment))


@experiments.command(name="start")
@click.argument("name")
def start_command(name: str) -> None:
    """Start serving NAME."""
    click.echo(describe(_run(lambda conn: store.start(conn, name))))


@experiments.command()
@click.argument("name")
def stop(name: str) -> None:
    """Stop serving NAME (its report stays readable)."""
    click.echo(describe(_run(lambda conn: store.stop(conn, name))))


@experiments.command(name="report")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="The report as JSON.")
def report_command(name: str, as_json: bool) -> None:
    """Per-arm figures, uplifts with 95% intervals and p-values, and the verdict."""
    from app.experiments import report  # scipy: only for the command that needs it

    built = _run(lambda conn: report.build(conn, name))
    if as_json:
        click.echo(json.dumps(dataclasses.asdict(built), default=_iso, indent=2))
    else:
        click.echo(render(built))


def _run(work: Callable[[Connection], Awaitable[T]]) -> T:
    url = database(apply_tunables=False)
    try:
        return asyncio.run(_in_transaction(url, work))
    except errors.InvalidExperiment as error:
        raise Failure(f"{error.field}: {error.message}") from None
    except errors.ExperimentError as error:
        raise Failure(error.message) from None


async def _in_transaction(url: str, work: Callable[[Connection], Awaitable[T]]) -> T:
    # Commits on success, rolls back on an error: a rejected definition writes nothing.
    async with await psycopg.AsyncConnection.connect(url, row_factory=dict_row) as conn:
        return await work(conn)


# ----------------------------------------------------------------- arguments


def parse_arms(
    arms: tuple[str, ...], shares: tuple[str, ...], params: tuple[str, ...]
) -> tuple[store.ArmSpec, ...]:
    """--arm NAME=CASE[:METHOD], --share ARM=SHARE and --param ARM.KEY=VALUE as arms."""
    shares_of = {arm: _number(value, "--share") for arm, value in _pairs(shares, "--share")}
    params_of: dict[str, dict[str, Any]] = {}
    for target, value in _pairs(params, "--param"):
        arm, dot, key = target.partition(".")
        if not dot or not key:
            raise Failure(f"--param {target}={value}: expected ARM.KEY=VALUE")
        params_of.setdefault(arm, {})[key] = _value(value)
    specs = []
    for name, strategy in _pairs(arms, "--arm"):
        case, _, method = strategy.partition(":")
        share = shares_of.pop(name, 1.0)
        specs.append(store.ArmSpec(name, case, method or None, params_of.pop(name, {}), share))
    unknown = sorted(set(shares_of) | set(params_of))
    if unknown:
        raise Failure(f"--share/--param for an arm without --arm: {', '.join(unknown)}")
    return tuple(specs)


def _pairs(values: tuple[str, ...], option: str) -> list[tuple[str, str]]:
    pairs = []
    for text in values:
        key, equals, value = text.partition("=")
        if not equals or not key or not value:
            raise Failure(f"{option} {text}: expected NAME=VALUE")
        pairs.append((key, value))
    return pairs


def _number(text: str, option: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise Failure(f"{option}: {text!r} is not a number") from None


def _value(text: str) -> Any:
    # 0.2 is a number, Comedy is text.
    try:
        return json.loads(text)
    except ValueError:
        return text


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


# ------------------------------------------------------------------ rendering


def describe(experiment: store.Experiment) -> str:
    arms = ", ".join(
        f"{arm.name}={strategy(arm.case, arm.method)}"
        + (f" x{arm.share:g}" if experiment.mode == store.AB else "")
        for arm in experiment.arms
    )
    return f"{experiment.name:<20} {experiment.mode:<10} {experiment.status:<8} {arms}"


def strategy(case: str, method: str | None) -> str:
    return f"{case}:{method}" if method else case


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


HEADER = (
    f"{'arm':<14}{'strategy':<20}{'users':>8}{'lists':>8}{'impr.':>9}{'clicks':>8}"
    f"{'CTR':>8}{'click rate':>12}{'conv. rate':>12}"
)


def render(built: report.Report) -> str:
    since = f", started {built.started_at:%Y-%m-%d %H:%M}" if built.started_at else ""
    lines = [f"experiment {built.experiment} ({built.mode}, {built.status}{since})", HEADER]
    for arm in built.arms:
        lines.append(
            f"{arm.name:<14}{strategy(arm.case, arm.method):<20}{arm.users:>8}{arm.lists:>8}"
            f"{arm.impressions:>9}{arm.clicks:>8}{percent(arm.ctr):>8}"
            f"{percent(arm.user_click_rate):>12}{percent(arm.user_conversion_rate):>12}"
        )
    lines += _comparison_lines(built) + _interleaving_lines(built)
    lines.append(f"verdict (alpha {built.alpha:g}): {built.verdict}")
    return "\n".join(lines)


def _comparison_lines(built: report.Report) -> list[str]:
    control = built.arms[0].name
    lines = []
    for c in built.comparisons:
        lines.append(f"{c.arm} against {control}:")
        lines.append(f"  user click rate       {uplift(c.click_rate)}")
        lines.append(f"  user conversion rate  {uplift(c.conversion_rate)}")
    return lines


def uplift(u: stats.Uplift) -> str:
    if u.difference is None or u.low is None or u.high is None or u.p_value is None:
        return "no users yet"
    relative = "-" if u.relative is None else f"{u.relative * 100:+.1f}%"
    return (
        f"{u.difference * 100:+.2f} points (95% CI {u.low * 100:+.2f} to {u.high * 100:+.2f}),"
        f" relative {relative}, p = {u.p_value:.3g}"
    )


def _interleaving_lines(built: report.Report) -> list[str]:
    test = built.interleaving
    if test is None:
        return []
    control, treatment = (arm.name for arm in built.arms)
    lines = [
        f"users preferring {control}: {test.wins[0]}, {treatment}: {test.wins[1]} (ties dropped)"
    ]
    if test.p_value is not None and test.share is not None:
        lines.append(
            f"  {treatment}'s share {test.share * 100:.1f}% (95% CI {percent(test.low)} to"
            f" {percent(test.high)}), sign test p = {test.p_value:.3g}"
        )
    return lines
