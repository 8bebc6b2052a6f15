"""`recsys demo`: a synthetic shop, loaded, trained, visited and served."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import click
import psycopg

from app.cli.common import Failure, database, settings
from app.db import queries


@click.command()
@click.option("--users", default=500, show_default=True, help="Synthetic users.")
@click.option("--items", default=200, show_default=True, help="Catalogue size.")
@click.option("--events-per-user", default=10, show_default=True)
@click.option("--seed", default=42, show_default=True, help="Same seed, same shop.")
@click.option(
    "--train/--no-train", default=True, help="Train every model (collaborative, content, hybrid)."
)
@click.option(
    "--visitors",
    default=200,
    show_default=True,
    help="Simulated visitors of the A/B experiment (hybrid vs popular); 0: none.",
)
@click.option("--per-strategy", default=25, show_default=True, help="Visits per strategy.")
@click.option("--serve/--no-serve", default=True, help="Serve it afterwards.")
@click.option("--port", type=int, default=None)
def demo(
    users: int,
    items: int,
    events_per_user: int,
    seed: int,
    train: bool,
    visitors: int,
    per_strategy: int,
    serve: bool,
    port: int | None,
) -> None:
    """Generate a small shop (catalogue, users, view/cart/purchase events), train
    every model on it, simulate visitors clicking lists (every strategy, and an
    A/B experiment of hybrid against popular), then serve it: /demo/realtime,
    /admin."""
    from app import server
    from app.demo import load, shop

    started = time.monotonic()
    url = database()
    load.load(url, shop.generate(users, items, events_per_user, seed))
    click.echo(f"demo shop loaded: {items} items, {users} users, {users * events_per_user} events")
    refresh_lists(url)
    if train:
        train_all(url, seed)
    if visitors or per_strategy:
        asyncio.run(simulate(url, visitors, per_strategy, seed))
    click.echo(f"demo ready in {time.monotonic() - started:.0f}s")
    if serve:
        config = settings()
        where = f"http://{config.host}:{port or config.port}"
        click.echo(f"demo page: {where}/demo/realtime   dashboard: {where}/admin")
        server.run(url, config.host, port or config.port)


def refresh_lists(url: str) -> None:
    """What the service's refresh round would do within 10 s: behavior_based reads them."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(queries.get("refresh_neighbor_lists"), {"everything": True})


def train_all(url: str, seed: int) -> None:
    from app.training import runner

    options = runner.Options(random_state=seed)
    try:
        outcomes = runner.train(url, ["all"], options)
    except Exception as error:
        raise Failure(f"training the demo's models failed: {error}") from error
    trained = ", ".join(f"{o.kind} (run {o.run_id})" for o in outcomes)
    click.echo(f"trained {trained}")


async def simulate(url: str, visitors: int, per_strategy: int, seed: int) -> None:
    import tempfile

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
            await sim.run(test_app.test_client(), url, visitors, per_strategy, seed, click.echo)
