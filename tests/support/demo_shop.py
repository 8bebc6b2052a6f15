"""What `recsys demo` builds, at a size a browser test affords: a shop loaded,
every model trained, visitors simulated (every strategy, the A/B experiment)."""

from __future__ import annotations

from app.demo import load, prepare, shop


async def build(db_url: str, users: int = 80, items: int = 40) -> None:
    load.load(db_url, shop.generate(n_users=users, n_items=items, events_per_user=8, seed=7))
    prepare.refresh_lists(db_url)
    prepare.train_all(db_url, seed=7)
    await prepare.simulate(db_url, visitors=60, per_strategy=5, seed=7, say=lambda _: None)


def train_again(db_url: str) -> None:
    prepare.train_all(db_url, seed=8)
