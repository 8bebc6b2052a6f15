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
import logging
import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

import click
from quart import Quart

from app import servers
from app.config import Settings
from app.metrics.instruments import MULTIPROC_ENV
from app.servers import Options, Trigger

log = logging.getLogger(__name__)

# The supervisor: how often it looks at `stop`, and its pauses before restarting
# a worker that died younger than YOUNG seconds.
POLL = 0.1
YOUNG = 5.0
MIN_PAUSE = 0.1
MAX_PAUSE = 5.0
# Beyond the graceful timeout, how long the supervisor waits for its workers.
JOIN_MARGIN = 5.0


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
    # Accepted sockets inherit TCP_NODELAY from this one (Linux). asyncio sets
    # it only on sockets whose proto is IPPROTO_TCP, and create_server's is 0:
    # without it, hypercorn's header and body writes met delayed ACKs, a 44 ms
    # floor on every response (docs/performance.md).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
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
    # The handler only sets a threading.Event, whose is_set() takes no lock: a
    # multiprocessing Event's set() takes the lock its is_set() holds, and the
    # handler runs in the thread that polls, so it could deadlock the supervisor.
    requested = threading.Event()

    def on_signal(*_: Any) -> None:
        requested.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    pool = Workers(context, lambda: (options, name, sock, stop), workers)
    pool.keep_alive(requested)
    stop.set()
    pool.join(options.graceful_timeout + JOIN_MARGIN)
    sock.close()


class Workers:
    """n worker processes, each replaced when it dies until a stop is requested.

    A worker killed by the kernel (OOM) or a signal would otherwise leave the
    service short of capacity for good; a worker that dies young (it could not
    reach the database on start, say) is restarted after a pause that doubles
    up to MAX_PAUSE, so a crash loop does not spin."""

    def __init__(self, context: Any, args: Callable[[], tuple[Any, ...]], workers: int) -> None:
        self._context = context
        self._args = args
        self._pause = {slot: MIN_PAUSE for slot in range(workers)}
        self.processes = {slot: self._start() for slot in range(workers)}
        self.restarts = 0

    def _start(self) -> Any:
        process = self._context.Process(target=_worker, args=self._args())
        process.start()
        process.started_at = time.monotonic()
        return process

    def keep_alive(self, requested: threading.Event) -> None:
        """Replace dead workers until `requested` is set."""
        while not requested.is_set():
            sentinels = [p.sentinel for p in self.processes.values()]
            # Wakes on a death, or every POLL to see `requested`.
            multiprocessing.connection.wait(sentinels, timeout=POLL)
            for slot, process in list(self.processes.items()):
                if process.exitcode is not None and not requested.is_set():
                    self._replace(slot, process, requested)

    def join(self, seconds: float) -> None:
        """Wait for the workers to drain; SIGTERM those still running after
        `seconds` (a worker still starting, waiting for the database, has no
        drain to do and has not yet installed its handler, so SIGTERM ends it)."""
        deadline = time.monotonic() + seconds
        for process in self.processes.values():
            process.join(max(deadline - time.monotonic(), 0))
        for process in self.processes.values():
            if process.exitcode is None:
                log.warning("worker %s did not stop in time; terminating it", process.pid)
                process.terminate()
                # A worker whose loop holds SIGTERM (uvicorn still in its
                # startup, waiting for the database) gets SIGKILL after JOIN_MARGIN.
                process.join(JOIN_MARGIN)
                if process.exitcode is None:
                    process.kill()
                    process.join()

    def _replace(self, slot: int, dead: Any, requested: threading.Event) -> None:
        lived = time.monotonic() - dead.started_at
        log.warning(
            "worker %s exited with %s after %.1f s; restarting", dead.pid, dead.exitcode, lived
        )
        _mark_dead(dead.pid)
        pause = self._pause[slot] if lived < YOUNG else MIN_PAUSE
        self._pause[slot] = min(pause * 2, MAX_PAUSE)
        # Polled, not requested.wait(): the handler runs in this thread, and
        # wait() holds the lock that its set() takes.
        deadline = time.monotonic() + pause
        while time.monotonic() < deadline:
            if requested.is_set():
                return
            time.sleep(POLL)
        self.processes[slot] = self._start()
        self.restarts += 1


def _mark_dead(pid: int) -> None:
    # A SIGKILLed worker never ran its own cleanup: its live gauges leave the sums.
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


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
        # Its live gauges leave the sums; its counters stay in the totals.
        _mark_dead(os.getpid())
