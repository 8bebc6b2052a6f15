"""`recsys demo`: a synthetic shop, loaded and served."""

from __future__ import annotations

import click

from app.cli.common import database, settings


@click.command()
@click.option("--users", default=500, show_default=True, help="Synthetic users.")
@click.option("--items", default=200, show_default=True, help="Catalogue size.")
@click.option("--events-per-user", default=10, show_default=True)
@click.option("--seed", default=42, show_default=True, help="Same seed, same shop.")
@click.option("--serve/--no-serve", default=True, help="Serve it afterwards.")
@click.option("--port", type=int, default=None)
def demo(
    users: int, items: int, events_per_user: int, seed: int, serve: bool, port: int | None
) -> None:
    """Generate a small shop (catalogue, users, view/cart/purchase events) and serve it."""
    from app import server
    from app.demo import load, shop

    url = database()
    load.load(url, shop.generate(users, items, events_per_user, seed))
    click.echo(f"demo shop loaded: {items} items, {users} users, {users * events_per_user} events")
    if serve:
        config = settings()
        server.run(url, config.host, port or config.port)
