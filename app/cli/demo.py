"""`recsys demo`: a synthetic shop, loaded, trained, visited and served."""

from __future__ import annotations

import asyncio
import time

import click

from app.cli.common import Failure, database, settings


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
    from app.demo import load, prepare, shop

    started = time.monotonic()
    url = database()
    load.load(url, shop.generate(users, items, events_per_user, seed))
    click.echo(f"demo shop loaded: {items} items, {users} users, {users * events_per_user} events")
    prepare.refresh_lists(url)
    click.echo("scenarios: " + ", ".join(prepare.put_scenarios(url)))
    if train:
        try:
            outcomes = prepare.train_all(url, seed)
        except Exception as error:
            raise Failure(f"training the demo's models failed: {error}") from error
        click.echo("trained " + ", ".join(f"{o.kind} (run {o.run_id})" for o in outcomes))
    if visitors or per_strategy:
        asyncio.run(prepare.simulate(url, visitors, per_strategy, seed, click.echo))
    click.echo(f"demo ready in {time.monotonic() - started:.0f}s")
    if serve:
        config = settings()
        where = f"http://{config.host}:{port or config.port}"
        click.echo(f"demo page: {where}/demo/realtime   dashboard: {where}/admin")
        server.run(url, config.host, port or config.port)
