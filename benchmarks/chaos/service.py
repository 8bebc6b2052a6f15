"""`recsys serve --workers 2` in a subprocess, and its workers to SIGKILL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from benchmarks.procs import descendants


class Service:
    def __init__(self, db_url: str, data_dir: Path, workers: int = 2) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "REC_DATABASE_URL": db_url, "REC_DATA_DIR": str(data_dir)}
        env.pop("REC_API_KEYS", None)
        command = [str(Path(sys.executable).with_name("recsys")), "serve", "--no-migrate"]
        command += ["--port", str(self.port), "--workers", str(workers)]
        self._log = (data_dir / "serve.log").open("wb")
        self.process = subprocess.Popen(command, env=env, stdout=self._log, stderr=self._log)
        self.log_path = data_dir / "serve.log"
        wait_until_up(self.url, 180)  # spawned workers import slowly on a busy machine

    def workers(self) -> list[int]:
        """The worker processes (spawned children; not the resource tracker)."""
        found = []
        for pid in descendants(self.process.pid):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if pid != self.process.pid and b"spawn_main" in cmdline:
                found.append(pid)
        return found

    def oldest_worker(self) -> int | None:
        """The worker that has run longest: the one most sockets are on, since a
        socket stays on the worker that accepted it until that worker dies."""
        started = {pid: at for pid in self.workers() if (at := start_ticks(pid)) is not None}
        return min(started, key=lambda pid: (started[pid], pid), default=None)

    def kill(self, pid: int) -> None:
        os.kill(pid, signal.SIGKILL)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self._log.close()
        return code


def start_ticks(pid: int) -> int | None:
    """When `pid` started, in clock ticks since boot (/proc/<pid>/stat field 22)."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url}/health did not answer 200 within {seconds:.0f} s")
