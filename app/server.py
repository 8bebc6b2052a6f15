"""Run the app under uvicorn (the default), hypercorn or granian, in one process
or several, and shut down gracefully.

On SIGTERM or SIGINT a process stops accepting connections, closes every
WebSocket / Socket.IO connection with 1001 (going away, so clients reconnect
elsewhere), lets in-flight requests finish for up to REC_GRACEFUL_TIMEOUT
seconds, and only then closes its database pool (after_serving). The servers
themselves sit behind one interface in app/servers/.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
from collections.abc import Coroutine, Iterator
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

import click
from quart import Quart

from app import servers
from app.config import Settings
from app.metrics.instruments import MULTIPROC_ENV
from app.servers import Options, Trigger


def run(url: str, host: str, port: int, workers: int = 1, server: str | None = None) -> None:
    # Worker processes build their own app from the environment: hand them the
    # database this process resolved (the embedded server is already running).
    os.environ["REC_DATABASE_URL"] = url
    settings = Settings.from_env()
    try:
        settings.check_auth()
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    name = server or settings.server
    options = Options.of(host, port, settings)
    click.echo(
        f"recsys: serving http://{host}:{port} with {name} (docs: /docs, database: `recsys db url`)"
    )
    if name == "granian":
        from app.servers import granian_server

        with metrics_folder() if workers > 1 else contextlib.nullcontext():
            granian_server.run(options, workers)
        return
    if workers <= 1:
        run_loop(name, _serve_from_env(options, name, listen(host, port)))
    else:
        supervise(options, name, workers)


def run_loop(name: str, main: Coroutine[Any, Any, None]) -> None:
    """uvicorn runs on uvloop (what it is measured with); the others on asyncio."""
    if name == "uvicorn":
        import uvloop

        uvloop.run(main)
    else:
        asyncio.run(main)


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, made here so every worker process accepts on it."""
    sock = socket.create_server((host, port), backlog=2048)
    sock.set_inheritable(True)
    return sock


async def serve(
    app: Quart,
    options: Options,
    stop: Trigger | None = None,
    sock: socket.socket | None = None,
    server: str = servers.DEFAULT,
) -> None:
    """Serve until `stop` returns (default: SIGTERM or SIGINT), then drain."""

    async def shutdown() -> None:
        await (stop or signalled)()
        # Sockets never finish on their own: close them now, while the server
        # stops accepting and waits for the in-flight requests.
        app.extensions["recsys.sockets"].close_all()

    if server == "hypercorn":
        from app.servers import hypercorn_server as backend
    elif server == "uvicorn":
        from app.servers import uvicorn_server as backend  # type: ignore[no-redef]
    else:
        raise ValueError(f"{server} serves from its own processes (app.servers.granian_server)")
    await backend.serve(app, options, shutdown, sock)


async def signalled() -> None:
    """Return on the first SIGTERM or SIGINT."""
    received = asyncio.Event()
    loop = asyncio.get_running_loop()
    for name in ("SIGTERM", "SIGINT"):
        loop.add_signal_handler(getattr(signal, name), received.set)
    await received.wait()


async def _serve_from_env(options: Options, name: str, sock: socket.socket) -> None:
    from app import create_app

    await serve(create_app(), options, sock=sock, server=name)


def supervise(options: Options, name: str, workers: int) -> None:
    """n worker processes on one listening socket; SIGTERM/SIGINT here drains them all."""
    with metrics_folder():
        _supervise(options, name, workers)


@contextlib.contextmanager
def metrics_folder() -> Iterator[None]:
    """PROMETHEUS_MULTIPROC_DIR for the workers: each writes its metrics there and
    a scrape in any of them adds every worker's up (app/metrics). A folder given
    in the environment is emptied first (old files would count twice); one made
    here is removed afterwards."""
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.db"):
            old.unlink()
        yield
        return
    folder = Path(tempfile.mkdtemp(prefix="recsys-metrics-"))
    os.environ[MULTIPROC_ENV] = str(folder)
    try:
        yield
    finally:
        del os.environ[MULTIPROC_ENV]
        shutil.rmtree(folder, ignore_errors=True)


def _supervise(options: Options, name: str, workers: int) -> None:
    sock = listen(options.host, options.port)
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    processes = [
        context.Process(target=_worker, args=(options, name, sock, stop)) for _ in range(workers)
    ]
    for process in processes:
        process.start()

    def on_signal(*_: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    for process in processes:
        process.join()
    sock.close()


def _worker(options: Options, name: str, sock: socket.socket, stop: Event) -> None:
    # A terminal's Ctrl-C reaches every process of the group: the supervisor
    # decides, so workers drain exactly once.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    async def stopped() -> None:
        received = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, received.set)
        # A multiprocessing Event cannot be awaited; 0.1 s is Hypercorn's own poll.
        while not (stop.is_set() or received.is_set()):  # noqa: ASYNC110
            await asyncio.sleep(0.1)

    from app import create_app

    try:
        run_loop(name, serve(create_app(), options, stop=stopped, sock=sock, server=name))
    finally:
        if os.environ.get(MULTIPROC_ENV):
            # Its live gauges leave the sums; its counters stay in the totals.
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
