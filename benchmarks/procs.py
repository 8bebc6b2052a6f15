"""Resident memory and CPU time of the server's processes, read from /proc
(psutil is not a dependency): a pid and all its descendants."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def descendants(root: int) -> list[int]:
    """`root` and every process below it (hypercorn forks its workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            parent = _ppid(entry)
            if parent is not None:
                children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def _ppid(entry: Path) -> int | None:
    try:
        # The command name may hold spaces or parentheses: split after the last ')'.
        return int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def rss_mib(pids: list[int]) -> float:
    """Sum of VmRSS over `pids` (a process that has exited counts 0)."""
    total_kib = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kib += int(line.split()[1])
                    break
        except OSError:
            continue
    return total_kib / 1024


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds consumed so far by `pids`."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / TICKS


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine since boot, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def machine_busy(before: tuple[int, int], after: tuple[int, int]) -> float:
    """Cores busy on average between two machine_ticks(), whoever used them."""
    busy, total = after[0] - before[0], after[1] - before[1]
    return (os.cpu_count() or 1) * busy / total if total else float("nan")


@dataclass
class Sampler:
    """Samples the RSS of a process tree every `interval` seconds while running."""

    root: int | None
    interval: float = 1.0
    samples: list[tuple[float, float]] = field(default_factory=list)  # (monotonic s, MiB)
    pids: list[int] = field(default_factory=list)

    def refresh(self) -> None:
        self.pids = descendants(self.root) if self.root else []

    def sample(self) -> float:
        value = rss_mib(self.pids)
        self.samples.append((time.monotonic(), value))
        return value

    async def run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.interval)

    def cpu(self) -> float:
        return cpu_seconds(self.pids) if self.pids else float("nan")

    def between(self, start: float, end: float) -> list[float]:
        return [mib for t, mib in self.samples if start <= t <= end]
