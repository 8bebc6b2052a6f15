"""What `recsys demo` does to a loaded shop before serving it: the neighbour
lists refreshed, every model trained, visitors simulated through the API."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from psycopg.rows import dict_row

from app.db import queries
from app.db import scenarios as db_scenarios
from app.db.scenarios import Scenario

if TYPE_CHECKING:
    from app.training.runner import Outcome


def refresh_lists(url: str) -> None:
    """What the service's refresh round would do within 10 s: behavior_based reads them."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(queries.get("refresh_neighbor_lists"), {"everything": True})


# Scenarios the demo page's picker lists (docs/rules.md): a varied home page,
# and a product page that keeps to cheap items and falls back on co-occurrence.
SCENARIOS = (
    Scenario(
        "home",
        "hybrid",
        diversity=0.25,
        max_per_category=3,
        rotation=0.5,
        description="varied: at most 3 per category",
    ),
    Scenario(
        "under-50",
        "behavior_based",
        rules={"filter": {"field": "attributes.price", "op": "<", "value": 50}},
        fallback=["popular"],
        description="items under 50",
    ),
)


def put_scenarios(url: str) -> list[str]:
    """Creates (or resets) the demo's scenarios; their names."""

    async def put() -> None:
        async with await psycopg.AsyncConnection.connect(url, row_factory=dict_row) as conn:
            for scenario in SCENARIOS:
                await db_scenarios.put(conn, scenario)

    asyncio.run(put())
    return [s.name for s in SCENARIOS]


def train_all(url: str, seed: int) -> list[Outcome]:
    """`recsys train`: every model the shop's data supports (ease, content, hybrid)."""
    from app.training import runner  # scikit-learn and surprise: only when training

    return runner.train(url, ["all"], runner.Options(random_state=seed))


async def simulate(
    url: str, visitors: int, per_strategy: int, seed: int, say: Callable[[str], None] = print
) -> None:
    """Visitors through this process's own app (app/demo/simulate.py)."""
    from app import create_app
    from app.demo import simulate as sim

    with tempfile.TemporaryDirectory(prefix="recsys-demo-") as tmp:
        app = create_app(
            {
                "database_url": url,
                "data_dir": Path(tmp),
                "neighbor_refresh": None,
                "log_format": "off",
                # The visitors are this process: no key needed, whatever REC_API_KEYS says.
                "api_keys": (),
            }
        )
        async with app.test_app() as test_app:
            await sim.run(test_app.test_client(), url, visitors, per_strategy, seed, say)
