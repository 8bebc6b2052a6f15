"""GET /strategies: what a client may ask GET /recommend for (the demo page's picker)."""

from __future__ import annotations

from typing import Any

from quart import Blueprint
from quart_schema import validate_response

from app import recommenders
from app.api.admin_models import Strategies

bp = Blueprint("strategies", __name__)


@bp.get("/strategies")
@validate_response(Strategies)
async def list_strategies() -> Strategies:
    """Every list GET /recommend serves: each case, and the hybrid once per
    method (`name` as app.recommenders.VARIANTS spells it), with the ids it
    needs (one of `needs`) and what it does."""
    return Strategies(strategies=every())


def every() -> list[dict[str, Any]]:
    out = []
    for name, (case, method) in recommenders.VARIANTS.items():
        strategy = recommenders.BY_NAME[case]
        out.append(
            {
                "name": name,
                "case": case,
                "method": method,
                "needs": list(strategy.needs),
                "summary": strategy.summary,
            }
        )
    return out
