"""`recsys scenarios list|show|set|delete`: saved settings of one placement."""

from __future__ import annotations

import json
from typing import Any

import click
from psycopg import errors as pg

from app import recommenders
from app.cli.common import Failure, run_db
from app.db import scenarios as db_scenarios


@click.group("scenarios")
def scenarios() -> None:
    """Scenarios: list, show, set (create or replace), delete."""


@scenarios.command("list")
def list_scenarios() -> None:
    """Every scenario: its case, k, diversity and description."""
    rows = run_db(db_scenarios.list_all)
    click.echo(f"{'name':<24} {'case':<16} {'k':>4} {'diversity':>9}  description")
    for s in rows:
        click.echo(
            f"{s.name:<24} {s.case_name:<16} {s.k or 10:>4} {s.diversity:>9g}"
            f"  {s.description or ''}"
        )


@scenarios.command("show")
@click.argument("name")
def show(name: str) -> None:
    """NAME's settings as JSON (the body PUT /admin/scenarios/NAME takes)."""
    scenario = run_db(db_scenarios.get, name)
    if scenario is None:
        raise Failure(f"unknown scenario {name!r}")
    click.echo(json.dumps(_body(scenario), indent=2))


@scenarios.command("set")
@click.argument("name")
@click.option("--case", "case", type=click.Choice(recommenders.NAMES), required=True)
@click.option("--method", type=click.Choice(recommenders.METHODS), default=None)
@click.option("--rules", default=None, help="Rules as JSON (docs/rules.md), or @FILE.")
@click.option("--diversity", type=click.FloatRange(0, 1), default=0.0, show_default=True)
@click.option("--max-per-category", type=click.IntRange(min=1), default=None)
@click.option("--rotation", type=click.FloatRange(0, 1), default=0.0, show_default=True)
@click.option("--k", type=click.IntRange(1, 1000), default=None, help="List length (default 10).")
@click.option("--fallback", multiple=True, type=click.Choice(recommenders.NAMES))
@click.option("--description", default=None)
def set_scenario(
    name: str, case: str, rules: str | None, fallback: tuple[str, ...], **rest: Any
) -> None:
    """Create or replace NAME (its rules compiled first; a bad node is named)."""
    scenario = db_scenarios.Scenario(
        name=name, case_name=case, rules=_rules(rules), fallback=list(fallback), **rest
    )
    try:
        _, created = run_db(db_scenarios.put, scenario)
    except pg.InvalidParameterValue as error:
        field = error.diag.column_name or "scenario"
        raise Failure(
            f"scenario {name!r} rejected: {field}: {error.diag.message_primary}"
        ) from None
    click.echo(f"{'created' if created else 'replaced'} scenario {name} ({case})")


@scenarios.command("delete")
@click.argument("name")
def delete(name: str) -> None:
    """Delete NAME."""
    if not run_db(db_scenarios.drop, name):
        raise Failure(f"unknown scenario {name!r}")
    click.echo(f"deleted scenario {name}")


def _rules(raw: str | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    if raw.startswith("@"):
        with open(raw[1:], encoding="utf-8") as source:
            raw = source.read()
    try:
        rules = json.loads(raw)
    except ValueError as error:
        raise Failure(f"--rules is not JSON: {error}") from None
    if not isinstance(rules, dict):
        raise Failure("--rules must be a JSON object")
    return rules


def _body(scenario: db_scenarios.Scenario) -> dict[str, Any]:
    return {
        "name": scenario.name,
        "case": scenario.case_name,
        "method": scenario.method,
        "rules": scenario.rules,
        "diversity": scenario.diversity,
        "max_per_category": scenario.max_per_category,
        "rotation": scenario.rotation,
        "k": scenario.k,
        "fallback": scenario.fallback,
        "description": scenario.description,
    }
