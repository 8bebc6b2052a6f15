"""Run the app under Hypercorn, in one process or several."""

from __future__ import annotations

import logging
import os

import click
from hypercorn.config import Config
from hypercorn.run import run as hypercorn_run


def run(url: str, host: str, port: int, workers: int = 1) -> None:
    # Worker processes build their own app from the environment: hand them the
    # database this process resolved (the embedded server is already running).
    os.environ["REC_DATABASE_URL"] = url
    config = Config()
    config.bind = [f"{host}:{port}"]
    config.application_path = "app:create_app()"
    # 0 serves from this process; n > 1 forks n workers sharing the socket.
    config.workers = 0 if workers <= 1 else workers
    config.graceful_timeout = 10
    click.echo(f"recsys: serving http://{host}:{port}  (docs: /docs, database: `recsys db url`)")
    # Hypercorn logs through its own handler; without this, the root handler that
    # `recsys -v` installs prints every line twice.
    logging.getLogger("hypercorn.error").propagate = False
    hypercorn_run(config)
