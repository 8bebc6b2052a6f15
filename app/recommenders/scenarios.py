"""A request in a scenario: the scenario's saved settings, overridden by what
the request gave itself."""

from __future__ import annotations

from dataclasses import replace

from app.db.scenarios import Scenario
from app.recommenders.base import Query

DEFAULT_K = 10
# The Query fields a scenario saves, which a request's own value overrides.
OVERRIDABLE = ("k", "rotation", "diversity", "max_per_category")


def apply(
    scenario: Scenario, query: Query, given: set[str], case: str | None = None
) -> tuple[str, Query]:
    """The case and query a request runs in `scenario`. `given` names the
    request's own fields, which win (`case`: a strategy instead of the
    scenario's, with the request's method); rules merge key by key, the
    request's keys replacing the scenario's."""
    rules = scenario.rules
    if query.rules is not None:
        rules = {**(scenario.rules or {}), **query.rules}
    method = query.method if case or "method" in given else scenario.method
    saved = {name: getattr(scenario, name) for name in OVERRIDABLE if name not in given}
    if saved.get("k", 0) is None:
        saved["k"] = DEFAULT_K
    return case or scenario.case_name, replace(
        query, method=method, rules=rules, fallback=list(scenario.fallback), **saved
    )
